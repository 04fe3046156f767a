/**
 * Limits on what one message may ask of its receiver, so that a few bytes cannot ask for
 * gigabytes. Both lists are deduplicated first: a repeated id costs nothing.
 */
export const MessageLimits = {
  /**
   * Distinct ids one `gather` may name. Past it the coordinator closes that client with 4400
   * (`ProtocolError`): one error per extra id would itself be an amplification. A client
   * awaiting more held results than this in one tick is far past any real workload (each is
   * over `holdResultsOverBytes`, 64 KiB by default).
   */
  GATHER_IDS: 100_000,
  /**
   * Distinct dependencies one submitted task may have. A task over it fails with
   * `InvalidTaskError`; fan in through a tree of tasks instead.
   */
  TASK_DEPS: 10_000,
} as const
