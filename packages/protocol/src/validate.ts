import { InvalidOptionError } from './errors/errors.js'
import { preview as show } from './values/preview.js'

/** The longest delay `setTimeout` honours, in milliseconds (about 24.8 days); longer fire at once. */
export const MAX_TIMER_MS = 2 ** 31 - 1

/**
 * What `checkMs` accepts. With no field set: a positive, finite number, `undefined` refused.
 * Each field widens or narrows that range for the option at hand.
 */
export interface MsRange {
  /** Accept 0: the value must be non-negative rather than positive. Default false. */
  readonly allowZero?: boolean
  /** Accept `undefined` (the option is not set), returned as is. Default false. */
  readonly allowUndefined?: boolean
  /** Accept `Infinity` (usually "never" or "forever"). Default false: finite only. */
  readonly allowInfinity?: boolean
  /** The largest accepted value, in milliseconds, such as `MAX_TIMER_MS`. Default: no bound. */
  readonly max?: number
  /**
   * With `allowUndefined`, what `undefined` means, said in the message: `'to wait forever'`
   * reads "(or undefined to wait forever)". Default: not said.
   */
  readonly undefinedMeans?: string
}

/**
 * Validates a duration option in milliseconds and returns it.
 * @param name the option as the user wrote it (`options.timeoutMs`, `task 3 timeoutMs`): the
 *   message starts with it, then a space, then the problem.
 * @throws InvalidOptionError naming the option and the unit when the value is not a number in the range.
 */
export function checkMs(
  value: unknown,
  name: string,
  range: MsRange & { readonly allowUndefined: true },
): number | undefined
export function checkMs(
  value: unknown,
  name: string,
  range?: MsRange & { readonly allowUndefined?: false },
): number
export function checkMs(value: unknown, name: string, range?: MsRange): number | undefined
export function checkMs(value: unknown, name: string, range: MsRange = {}): number | undefined {
  if (value === undefined && range.allowUndefined === true) return undefined
  if (
    typeof value !== 'number' ||
    Number.isNaN(value) ||
    (range.allowZero === true ? value < 0 : !(value > 0)) ||
    (range.allowInfinity !== true && !Number.isFinite(value))
  ) {
    const sign = range.allowZero === true ? 'non-negative' : 'positive'
    const orUndefined =
      range.allowUndefined === true && range.undefinedMeans !== undefined
        ? ` (or undefined ${range.undefinedMeans})`
        : ''
    throw new InvalidOptionError(
      `${name} must be a ${sign} number of milliseconds${orUndefined}, got ${show(value)}`,
    )
  }
  if (range.max !== undefined && value > range.max) {
    throw new InvalidOptionError(`${name} must be at most ${range.max} milliseconds, got ${value}`)
  }
  return value
}
