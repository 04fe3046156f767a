import {
  AbortedError,
  ConnectionLostError,
  DeadlockError,
  Direction,
  PROTOCOL_VERSION,
  SELF_ID,
  type ClientToCoordinator,
  type ClientWelcome,
  type Refuse,
  type TaskChannel,
  type TaskExecutorParts,
} from '@clusterpool/protocol'
import { CLUSTERPOOL_VERSION, FrameLink } from '@clusterpool/transport'

import { ClusterExecutor } from '../cluster/cluster-executor.js'
import type { ShutdownOptions } from '../executor/executor.js'
import { Future } from '../future/future.js'
import { setWaitHandler } from '../future/internal.js'

/**
 * The largest frame a task's executor sends, in bytes: the coordinator's default `maxPayload`.
 * Its worker checks each frame against the coordinator's real limit before forwarding it.
 */
const TASK_MAX_PAYLOAD = 64 * 1024 * 1024

/**
 * `currentTask().executor`: the executor of a running task, submitting to the pool or cluster
 * the task runs on. It is a cluster client whose link runs through the task's pool (a
 * `TaskChannel`) to the pool's owner: the local executor, or the worker daemon, which forwards
 * to the coordinator. So it has the whole cluster API: `submit`, `map`, `scatter`, `gather`,
 * dependencies between futures, and `currentTask().self` as a dependency.
 *
 * What it adds to a cluster client:
 * - **waits free the slot.** When the task first waits for one of its futures (`await`,
 *   `result()`, `asCompleted`, `wait`…) while it is unfinished, the task secedes: its process or
 *   thread may run another task meanwhile. When no future it waits for is unfinished, it rejoins.
 * - **waits are checked for cycles.** Each wait is announced (`await`); one that would close a
 *   cycle of tasks waiting on each other fails at once with `DeadlockError` (the future is
 *   failed with it, so the wait throws it). Awaiting `self` is such a cycle, found here.
 * - **the task owns what it submits.** When the task ends, its unfinished children are cancelled
 *   (unless another live task depends on them); when it is aborted, its pending waits fail with
 *   `AbortedError` at once.
 * - **`shutdown()` shuts nothing down** but this executor: it cancels what the task submitted
 *   and has not started, waits for the rest, then refuses new submits.
 */
export class TaskExecutor extends ClusterExecutor {
  readonly #channel: TaskChannel
  /** Futures waited for and unfinished: the task is seceded while this is above 0. */
  #waits = 0

  private constructor(
    link: FrameLink<'coordinator->client', ClientToCoordinator>,
    welcome: ClientWelcome,
    channel: TaskChannel,
  ) {
    super(link, welcome)
    this.#channel = channel
  }

  /** The executor and `self` future of the task behind `channel`. */
  static forTask(
    channel: TaskChannel,
    context: { readonly id: number; readonly signal: AbortSignal },
  ): TaskExecutorParts {
    const link = new FrameLink<'coordinator->client', ClientToCoordinator>(
      Direction.COORDINATOR_TO_CLIENT,
      (frame) => channel.send(frame),
    )
    link.setHandlers({ onMessages: () => {}, onClose: () => {} })
    channel.setReceiver((frame) => link.receive(frame))
    const welcome: ClientWelcome = {
      kind: 'welcome',
      version: PROTOCOL_VERSION,
      clientId: `task-${context.id}`,
      maxPayload: TASK_MAX_PAYLOAD,
      coordinator: {
        name: 'task',
        versions: { node: process.versions.node, clusterpool: CLUSTERPOOL_VERSION },
        workers: 0,
        procs: 0,
      },
    }
    const executor = new TaskExecutor(link, welcome, channel)
    const self = executor.#makeSelf(context.id)
    const onAbort = (): void => executor.#abortWaits()
    if (context.signal.aborted) onAbort()
    else context.signal.addEventListener('abort', onAbort, { once: true })
    return { executor, self }
  }

  protected override onSubmitted(future: Future<unknown>, id: number): void {
    setWaitHandler(future, () => {
      this.link.pushItem('await', 'ids', id)
      if (this.#waits++ === 0) this.#channel.secede()
      future.addDoneCallback(this.#waitEnded)
    })
  }

  readonly #waitEnded = (): void => {
    if (--this.#waits === 0) this.#channel.rejoin()
  }

  /** The task's own future: a dependency for its children; awaiting it is a deadlock. */
  #makeSelf(id: number): Future<unknown> {
    const self = new Future<unknown>(`self-${id}`)
    this.adoptAsDependency(self, SELF_ID)
    setWaitHandler(self, () => {
      self.setException(
        new DeadlockError(
          `deadlock: task ${id} would await its own future (currentTask().self), which cannot ` +
            'finish before the task does',
          [{ key: String(id), label: `task ${id}` }],
          ['await'],
        ),
      )
    })
    return self
  }

  /**
   * The task's worker lost the coordinator while the task ran: what the task submitted is not
   * known there any more, so its unfinished futures fail with `ConnectionLostError` now rather
   * than wait forever. New submits go to the coordinator the worker is connected to again.
   */
  protected override onRefuse(refuse: Refuse): void {
    const error = new ConnectionLostError(refuse.message)
    for (const future of [...this.unfinished]) if (!future.done()) future.setException(error)
  }

  /** The task was aborted: its waits end now, with `AbortedError`, and its children go. */
  #abortWaits(): void {
    const error = new AbortedError(
      'the task was aborted while it waited for this future; its children are cancelled',
    )
    for (const future of [...this.unfinished]) {
      if (!future.cancel() && !future.done()) future.setException(error)
    }
  }

  /**
   * Shuts this executor down, and nothing else: the pool or cluster is shared. What the task
   * submitted and has not started is cancelled (unless `cancelFutures: false`); with `wait`
   * (default true) it resolves once the task's started children are done. Submits after it throw
   * `ExecutorShutdownError`.
   */
  override async shutdown(options: ShutdownOptions = {}): Promise<void> {
    await super.shutdown({ ...options, cancelFutures: options.cancelFutures ?? true })
  }

  protected override async close(wait: boolean): Promise<void> {
    // The pool or cluster is shared: only this task's own submissions end here.
    if (wait) await this.whenIdle()
  }
}
