import type { SerializedError } from '../errors/serialize.js'

/**
 * What a `map` chunk task returns (`SubmitTask.chunk`): the results of its items in order, up to
 * the first that threw, and that item's error.
 */
export interface ChunkOutcome {
  /** Results of the items that ran, in order. */
  v: unknown[]
  /** The error of the item after the last result, if one failed. */
  e?: SerializedError
}
