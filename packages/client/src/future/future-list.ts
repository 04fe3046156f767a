import { Future } from './future.js'

/**
 * The futures `wait` or `asCompleted` (`fn`) was given, as a list; or a TypeError naming the
 * first item that is not one of this copy's Futures (a Promise made from a future with `.then`,
 * say, which does not say when it is done), for the caller to throw or reject with.
 */
export function checkedFutureList<T>(
  futures: Iterable<Future<T>>,
  fn: string,
): Future<T>[] | TypeError {
  if (
    futures === null ||
    typeof (futures as { [Symbol.iterator]?: unknown })?.[Symbol.iterator] !== 'function'
  )
    return new TypeError(`${fn}() takes an iterable of Futures, got ${describe(futures)}`)
  const list = [...futures]
  for (let i = 0; i < list.length; i++) {
    const item: unknown = list[i]
    if (!(item instanceof Future))
      return new TypeError(
        `${fn}() takes Futures (what submit returns); item ${i} is ${describe(item)}` +
          (item instanceof Promise ? ': pass the future itself, not a promise made from it' : ''),
      )
  }
  return list
}

function describe(value: unknown): string {
  if (value === null) return 'null'
  if (typeof value !== 'object') return typeof value
  const name = (value as { constructor?: { name?: unknown } }).constructor?.name
  if (typeof name !== 'string' || name === '' || name === 'Object') return 'a plain object'
  return /^[AEIOU]/.test(name) ? `an ${name}` : `a ${name}`
}
