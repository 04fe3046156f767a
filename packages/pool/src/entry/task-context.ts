import { AsyncLocalStorage } from 'node:async_hooks'

import {
  AbortedError,
  CURRENT_TASK_SYMBOL,
  InvalidStateError,
  TASK_EXECUTOR_FACTORY,
  type TaskChannel,
  type TaskContext,
  type TaskExecutorFactory,
  type TaskExecutorParts,
} from '@clusterpool/protocol'

/** What a task's context needs from the runner: its channel's plumbing. */
export interface TaskChannelHost {
  send(taskId: number, payload: Uint8Array): void
  secede(taskId: number): void
  rejoin(taskId: number): void
}

/**
 * The running task's context. The AbortSignal is made only when a task asks for it: most tasks
 * never do, and an AbortController per task would cost more than a no-op task itself. The
 * executor and `self` are made on first use too, by the factory the client's setup module
 * registered.
 */
export class RunningTaskContext implements TaskContext {
  #controller: AbortController | undefined
  #abortReason: AbortedError | undefined
  #parts: TaskExecutorParts | undefined
  #receiver: ((payload: Uint8Array) => void) | undefined
  /** Payloads that came before the executor was made (none should: the task sends first). */
  #early: Uint8Array[] | undefined
  /** The task awaits a future of its executor (it sent SECEDE, and no REJOIN since). */
  seceded = false
  /** When it last seceded (`performance.now()`), and how long its finished waits took, in ms. */
  secededAt = 0
  waitedMs = 0

  constructor(
    readonly id: number,
    readonly attempt: number,
    private readonly host: TaskChannelHost | undefined = undefined,
  ) {}

  get signal(): AbortSignal {
    if (this.#controller === undefined) {
      this.#controller = new AbortController()
      if (this.#abortReason !== undefined) this.#controller.abort(this.#abortReason)
    }
    return this.#controller.signal
  }

  get executor(): unknown {
    return this.#executorParts().executor
  }

  get self(): unknown {
    return this.#executorParts().self
  }

  /** Fires the signal (now, or as soon as the task first asks for it). */
  abort(): void {
    if (this.#abortReason !== undefined) return
    this.#abortReason = new AbortedError(`task ${this.id} was aborted while running`)
    this.#controller?.abort(this.#abortReason)
  }

  /** A payload from the pool's owner for this task's executor. */
  deliver(payload: Uint8Array): void {
    if (this.#receiver !== undefined) this.#receiver(payload)
    else (this.#early ??= []).push(payload)
  }

  #executorParts(): TaskExecutorParts {
    if (this.#parts !== undefined) return this.#parts
    const factory = (globalThis as { [TASK_EXECUTOR_FACTORY]?: TaskExecutorFactory })[
      TASK_EXECUTOR_FACTORY
    ]
    const host = this.host
    if (factory === undefined || host === undefined) {
      throw new InvalidStateError(
        'currentTask().executor is not available here: the pool running this task was not ' +
          "given the client's task-setup module (executors from @clusterpool/client and " +
          'clusterpool, and the clusterpool worker CLI, pass it)',
      )
    }
    const id = this.id
    const channel: TaskChannel = {
      taskId: id,
      send: (payload) => host.send(id, payload),
      setReceiver: (receive) => {
        this.#receiver = receive
        const early = this.#early
        this.#early = undefined
        if (early !== undefined) for (const payload of early) receive(payload)
      },
      secede: () => host.secede(id),
      rejoin: () => host.rejoin(id),
    }
    this.#parts = factory(channel, { id, signal: this.signal })
    return this.#parts
  }
}

type Global = typeof globalThis & { [CURRENT_TASK_SYMBOL]?: TaskContext }

/**
 * Which task's code is running. Tasks that run one at a time set `syncTask` around their call;
 * a task that awaits runs inside `taskStorage`, so that its continuations see it as theirs even
 * while other tasks run in the same child (a task waiting for its executor's futures gives its
 * slot to the next one).
 */
export const taskStorage = new AsyncLocalStorage<TaskContext>()
let syncTask: TaskContext | undefined

/**
 * The globals of a pool child, all non-enumerable:
 * - `currentTask()` and `globalThis[Symbol.for('clusterpool.currentTask')]`;
 * - `__name(fn, name)`, the helper esbuild (and so tsx) inserts into functions it compiles with
 *   their names kept; a task function written in a file run through tsx carries calls to it.
 */
export function installTaskGlobals(): void {
  Object.defineProperty(globalThis, CURRENT_TASK_SYMBOL, {
    get: () => taskStorage.getStore() ?? syncTask,
    enumerable: false,
    configurable: true,
  })
  Object.defineProperty(globalThis, 'currentTask', {
    value: function currentTask(): TaskContext | undefined {
      return (globalThis as Global)[CURRENT_TASK_SYMBOL]
    },
    writable: true,
    enumerable: false,
    configurable: true,
  })
  if (!('__name' in globalThis)) {
    Object.defineProperty(globalThis, '__name', {
      value: <T extends object>(target: T, name: string): T =>
        Object.defineProperty(target, 'name', { value: name, configurable: true }),
      writable: true,
      enumerable: false,
      configurable: true,
    })
  }
}

export function setCurrentTask(context: TaskContext | undefined): void {
  syncTask = context
}
