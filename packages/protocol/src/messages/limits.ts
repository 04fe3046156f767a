/**
 * Limits on what one message may ask of its receiver, so that a few bytes cannot ask for
 * gigabytes. Both lists are deduplicated first: a repeated id costs nothing.
 */
export const MessageLimits = {
  /**
   * Distinct ids one `gather` may name. The coordinator answers the first this many and fails
   * the futures of the rest with `ProtocolError` (the message is not refused, so what it could
   * answer is not lost). A client awaiting more held results than this in one tick is far past
   * any real workload (each is over `holdResultsOverBytes`, 64 KiB by default).
   */
  GATHER_IDS: 100_000,
  /**
   * Distinct dependencies one submitted task may have. A task over it fails with
   * `InvalidTaskError`; fan in through a tree of tasks instead.
   */
  TASK_DEPS: 10_000,
} as const
