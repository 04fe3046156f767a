import type { ChunkOutcome, SerializedError } from '@clusterpool/protocol'

import { isThenable } from './thenable.js'

type Fn = (...args: unknown[]) => unknown

/**
 * Runs `fn` once per item, in order, like `map` would one task at a time. Stays synchronous
 * while the results are plain values; the first promise switches to awaiting the rest.
 */
export function runChunk(
  fn: Fn,
  items: unknown,
  serialize: (error: unknown) => SerializedError,
): ChunkOutcome | Promise<ChunkOutcome> {
  if (!Array.isArray(items)) throw new TypeError('a chunk task takes an array of items')
  const v: unknown[] = []
  for (let i = 0; i < items.length; i++) {
    let r: unknown
    try {
      r = fn(items[i])
    } catch (error) {
      return { v, e: serialize(error) }
    }
    if (isThenable(r)) return finishAsync(fn, items, i, r, v, serialize)
    v.push(r)
  }
  return { v }
}

async function finishAsync(
  fn: Fn,
  items: unknown[],
  from: number,
  pending: PromiseLike<unknown>,
  v: unknown[],
  serialize: (error: unknown) => SerializedError,
): Promise<ChunkOutcome> {
  try {
    v.push(await pending)
    for (let i = from + 1; i < items.length; i++) v.push(await fn(items[i]))
  } catch (error) {
    return { v, e: serialize(error) }
  }
  return { v }
}
