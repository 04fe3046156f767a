import { InvalidOptionError } from '../errors/errors.js'
import { checkMs } from '../validate.js'
import { preview as show, previewKey } from '../values/preview.js'

/**
 * Per-call options, attached to a task with `task(fn, options)` or `task(...).with(options)`.
 * Every field is optional; an executor that cannot honour one says so when it is submitted.
 */
export interface TaskOptions {
  /** Kill the task (and its process) once it has run this long. Milliseconds; default: none. */
  timeoutMs?: number
  /** Run the task again this many times if its function throws. Default 0. */
  retries?: number
  /** Higher runs first; equal priorities run in submission order. Default 0. */
  priority?: number
  /** Abstract resources the task holds while it runs, such as `{ GPU: 1 }`. Default: none. */
  resources?: Readonly<Record<string, number>>
  /** Names or hosts of the workers the task may run on. Default: any. */
  workers?: readonly string[]
  /** With `workers`, fall back to any worker when none of those is connected. Default false. */
  allowOtherWorkers?: boolean
}

/** Validates options once, naming the option in the message. Returns a frozen copy. */
export function validateTaskOptions(
  options: unknown,
  where = 'task options',
): Readonly<TaskOptions> {
  if (options === undefined) return EMPTY
  if (typeof options !== 'object' || options === null) {
    throw new InvalidOptionError(`${where} must be an object`)
  }
  const o = options as Record<string, unknown>
  const out: TaskOptions = {}
  for (const key of Object.keys(o)) {
    const v = o[key]
    if (v === undefined) continue
    switch (key) {
      case 'timeoutMs':
        out.timeoutMs = checkMs(v, `${where}.timeoutMs`)
        break
      case 'retries':
        if (!Number.isInteger(v) || (v as number) < 0) {
          throw new InvalidOptionError(
            `${where}.retries must be a non-negative integer, got ${show(v)}`,
          )
        }
        out.retries = v as number
        break
      case 'priority':
        if (typeof v !== 'number' || !Number.isFinite(v)) {
          throw new InvalidOptionError(`${where}.priority must be a finite number, got ${show(v)}`)
        }
        out.priority = v
        break
      case 'resources': {
        if (typeof v !== 'object' || v === null) {
          throw new InvalidOptionError(`${where}.resources must be an object like { GPU: 1 }`)
        }
        const r: Record<string, number> = {}
        for (const [name, amount] of Object.entries(v)) {
          if (typeof amount !== 'number' || !(amount > 0) || !Number.isFinite(amount)) {
            throw new InvalidOptionError(
              `${where}.resources.${previewKey(name)} must be a positive number, got ${show(amount)}`,
            )
          }
          r[name] = amount
        }
        out.resources = Object.freeze(r)
        break
      }
      case 'workers':
        if (!Array.isArray(v) || v.some((w) => typeof w !== 'string')) {
          throw new InvalidOptionError(`${where}.workers must be an array of worker names or hosts`)
        }
        out.workers = Object.freeze([...(v as string[])])
        break
      case 'allowOtherWorkers':
        if (typeof v !== 'boolean') {
          throw new InvalidOptionError(`${where}.allowOtherWorkers must be a boolean`)
        }
        out.allowOtherWorkers = v
        break
      default:
        throw new InvalidOptionError(`${where}.${previewKey(key)} is not a task option`)
    }
  }
  return Object.freeze(out)
}

const EMPTY: Readonly<TaskOptions> = Object.freeze({})
