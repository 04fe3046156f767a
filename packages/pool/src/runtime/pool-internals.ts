/** Key of `TaskPool`'s internal counters, for tests and diagnostics (exported from `internal`). */
export const kPoolInternals: unique symbol = Symbol('clusterpool.TaskPool.internals')

export interface PoolInternals {
  /** Batches written to children (each one frame or one postMessage). */
  readonly batchesSent: number
  /** Batches read from children. */
  readonly batchesReceived: number
  /** Processes or threads started so far. */
  readonly spawned: number
  /** The live children: process ids, or thread ids. */
  readonly children: readonly { pid: number | undefined; threadId: number | undefined }[]
  /** Estimated run time per function label, in ms. */
  readonly estimates: ReadonlyMap<string, number>
}
