import { sourceFnRef, type SerializedError } from '@clusterpool/protocol'
import type { PoolTask } from '@clusterpool/pool'
import type { Logger } from 'pino'

/** What each task process runs once before the worker registers. */
const WARM_UP_FN = sourceFnRef(function clusterpoolWarmUp(): null {
  return null
})
/** The arguments of a call with none: msgpack's empty array. */
const NO_ARGS = Uint8Array.of(0x90)
/** How long the start-up no-ops may delay registering. Milliseconds. */
export const WARM_UP_LIMIT_MS = 10_000

/**
 * The start-up no-ops of a daemon's task processes (`WorkerDaemonOptions.warmUp`): a process
 * start (Node, the setup modules) takes hundreds of milliseconds, which the first task on each
 * process used to pay. Before registering, whoever waits for workers (`LocalCluster.start`)
 * pays it instead of the first tasks; alongside, it overlaps the connection.
 *
 * The no-ops have negative ids: `WorkerState` numbers its tasks from 1, so the pool's reports
 * of the two never meet. The daemon hands every report with a negative id to `settle`.
 */
export class WarmUp {
  /** The no-ops still running, by pool id. */
  readonly #pending = new Map<number, () => void>()
  readonly #log: Logger

  constructor(log: Logger) {
    this.#log = log
  }

  /**
   * Submits one no-op per process through `submit`; resolves when all have run, or after
   * `WARM_UP_LIMIT_MS` at the latest. A process that fails its no-op is logged, and tasks
   * will tell.
   */
  async run(procs: number, submit: (task: PoolTask) => void): Promise<void> {
    const t0 = performance.now()
    const ran = Array.from({ length: procs }, (_, i) => {
      const id = -(i + 1)
      const done = new Promise<void>((resolve) => this.#pending.set(id, resolve))
      submit({ id, fn: WARM_UP_FN, args: NO_ARGS })
      return done
    })
    let timer: NodeJS.Timeout | undefined
    await Promise.race([
      Promise.all(ran),
      new Promise((resolve) => (timer = setTimeout(resolve, WARM_UP_LIMIT_MS))),
    ])
    clearTimeout(timer)
    this.#log.debug({ procs, ms: Math.round(performance.now() - t0) }, 'task processes started')
  }

  /** Settles a start-up no-op; false if `id` is not one (a task of `WorkerState`). */
  settle(id: number, error?: SerializedError): boolean {
    const resolve = this.#pending.get(id)
    if (resolve === undefined) return false
    this.#pending.delete(id)
    if (error !== undefined)
      this.#log.warn({ err: error }, 'a task process failed its start-up no-op')
    resolve()
    return true
  }
}
