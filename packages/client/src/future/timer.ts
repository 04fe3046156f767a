import { MAX_TIMER_MS, checkMs } from '@clusterpool/protocol'

/**
 * Validates a `timeoutMs` option. Returns the timer delay in ms, or `undefined` for no timeout
 * (`undefined`, `Infinity`, or anything past `MAX_TIMER_MS`, the longest timer: about 24.8 days).
 * @throws InvalidOptionError naming `name` if the value is not a non-negative number.
 */
export function timerDelay(timeoutMs: number | undefined, name: string): number | undefined {
  const ms = checkMs(timeoutMs, name, {
    allowZero: true,
    allowUndefined: true,
    allowInfinity: true,
    undefinedMeans: 'to wait forever',
  })
  return ms === undefined || ms > MAX_TIMER_MS ? undefined : ms
}
