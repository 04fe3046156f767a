import type { Encoder } from '@clusterpool/protocol'
import {
  AbortedError,
  createDecoder,
  createEncoder,
  encodeValue,
  serializeError,
} from '@clusterpool/protocol'

import type { RunMessage, ToChild, ToParent } from '../messages.js'
import { ToChildKind, ToParentKind, describeFatalOrigin } from '../messages.js'
import type { LoadedFunction } from './functions.js'
import { FunctionCache, explainScopeError } from './functions.js'
import { runChunk } from './chunk.js'
import { isThenable } from './thenable.js'
import {
  RunningTaskContext,
  installTaskGlobals,
  setCurrentTask,
  taskStorage,
  type TaskChannelHost,
} from './task-context.js'

/** How the runner talks to the pool: a process pipe or a thread's port. */
export interface RunnerChannel {
  /** Sends a batch; it has left this process or thread when `send` returns. */
  send(messages: ToParent[]): void
}

/**
 * Results wait in the outbox so that a run of fast tasks costs one write. The outbox is flushed
 * when the queue runs dry, before any await (a promise-returning task, a module import), and
 * before starting a task whenever the results waiting are older than this, or the next task's
 * function is not known to be fast: if that task crashes the process, the results before it
 * are already with the parent, and the parent knows which task was running.
 */
const FLUSH_AFTER_MS = 1

/**
 * After running synchronous tasks for this long, the runner lets the event loop turn before the
 * next one, so that `ABORT` and `RECLAIM` from the parent are read between slow tasks.
 */
const YIELD_AFTER_MS = 2

/**
 * Runs the tasks a child receives, one at a time, in order.
 *
 * ```
 *            receive(RUN)              queue empty
 *   ┌──────┐ ──────────────► ┌─────────┐ ───────────► ┌──────┐
 *   │ idle │                 │ running │               │ idle │   STOP while idle ──► exit(0)
 *   └──────┘ ◄────────────── └─────────┘               └──────┘
 *                              │ task returns a promise: flush, await (receive() may run)
 *                              │ the task awaits its executor's future: SECEDE, run the next
 * ```
 *
 * A task that awaits a future of its own executor (`currentTask().executor`) secedes: the
 * runner tells the parent and goes on with its queue while the task waits, so a child can hold
 * several waiting tasks besides the one it runs. When the future settles the task rejoins (and
 * the parent gives this child nothing new until it is done). A Node child runs one piece of
 * JavaScript at a time, so the tasks share the child, not its CPU.
 */
export class Runner implements TaskChannelHost {
  readonly #channel: RunnerChannel
  readonly #exit: (code: number) => void
  readonly #fns = new FunctionCache()
  readonly #decoder = createDecoder()
  readonly #encoder: Encoder = createEncoder()
  #queue: RunMessage[] = []
  #queueHead = 0
  /** The task the drain loop runs (or awaits), if any. */
  #running: RunningTaskContext | null = null
  /**
   * Tasks that seceded and have not finished: they go on outside the drain loop. With
   * `#running`, every task started here and not finished; a task that never waits is only ever
   * `#running`, so it costs no map entry.
   */
  readonly #detached = new Map<number, RunningTaskContext>()
  /** Ends the drain loop's wait on the running task: it seceded. */
  #release: (() => void) | undefined
  #draining = false
  #stopRequested = false
  #outbox: ToParent[] = []
  #outboxSince = 0
  #lastYield = 0
  /** When the last task here ended (`performance.now()`): a clock reading the loop reuses. */
  #endedAt = 0
  /** Set once FATAL or EXITING went out: nothing more is sent. */
  #finalReported = false

  constructor(channel: RunnerChannel, exit: (code: number) => void) {
    this.#channel = channel
    this.#exit = exit
  }

  /** Installs `currentTask()` and the hooks that report crashes and exits to the parent. */
  installGlobalHooks(): void {
    installTaskGlobals()
    process.on('uncaughtException', (error, origin) => this.reportFatal(error, origin))
    process.on('exit', (code) => this.reportExiting(code))
  }

  receive(batch: readonly ToChild[]): void {
    for (const m of batch) {
      switch (m[0]) {
        case ToChildKind.DEFINE:
          this.#fns.define(m[1], m[2])
          break
        case ToChildKind.RUN:
          this.#queue.push(m)
          break
        case ToChildKind.ABORT:
          this.#abort(m[1])
          break
        case ToChildKind.FORGET:
          this.#fns.forget(m[1])
          break
        case ToChildKind.STOP:
          this.#stopRequested = true
          break
        case ToChildKind.RECLAIM:
          this.#reclaim()
          break
        case ToChildKind.NESTED:
          this.#task(m[1])?.deliver(m[2])
          break
      }
    }
    this.#flush()
    if (!this.#draining) {
      if (this.#queueHead < this.#queue.length) void this.#drain()
      else this.#exitIfStopped()
    }
  }

  /** A frame from a task's executor: it leaves at once (the executor batches per tick). */
  send(taskId: number, payload: Uint8Array): void {
    if (this.#task(taskId) === undefined) return // the task is over; its executor's last words are moot
    this.#push([ToParentKind.NESTED, taskId, payload])
    this.#flush()
  }

  /** The task awaits its executor's futures: free its slot, and run the next task meanwhile. */
  secede(taskId: number): void {
    const context = this.#task(taskId)
    if (context === undefined || context.seceded) return
    context.seceded = true
    context.secededAt = performance.now()
    this.#push([ToParentKind.SECEDE, taskId])
    this.#flush()
    if (this.#running === context) {
      this.#running = null
      this.#detached.set(taskId, context)
      setCurrentTask(undefined)
      this.#release?.()
    }
  }

  /** The awaited futures settled: the task runs again. */
  rejoin(taskId: number): void {
    const context = this.#task(taskId)
    if (context === undefined || !context.seceded) return
    context.seceded = false
    context.waitedMs += performance.now() - context.secededAt
    this.#push([ToParentKind.REJOIN, taskId])
    this.#flush()
  }

  /** The unfinished task `id` started here: the running one, or one that seceded. */
  #task(id: number): RunningTaskContext | undefined {
    const running = this.#running
    return running !== null && running.id === id ? running : this.#detached.get(id)
  }

  #exitIfStopped(): void {
    if (
      this.#stopRequested &&
      !this.#draining &&
      this.#running === null &&
      this.#detached.size === 0
    )
      this.#exit(0)
  }

  /** An uncaught exception or unhandled rejection: tell the parent, then exit with code 1. */
  reportFatal(error: unknown, origin = 'uncaughtException'): void {
    if (!this.#finalReported) {
      this.#finalReported = true
      const runningId = this.#running?.id ?? null
      const where = runningId === null ? 'between tasks' : `while task ${runningId} was running`
      console.error(
        `clusterpool: ${describeFatalOrigin(origin)} ${where}; the worker exits:`,
        error,
      )
      this.#push([ToParentKind.FATAL, runningId, serializeError(error), origin])
      this.#flushFinal()
    }
    this.#exit(1)
  }

  /** The process or thread is exiting (perhaps a task called `process.exit`). */
  reportExiting(code: number): void {
    if (this.#finalReported) return
    this.#finalReported = true
    this.#push([ToParentKind.EXITING, this.#running?.id ?? null, code])
    this.#flushFinal()
  }

  #abort(id: number): void {
    const active = this.#task(id)
    if (active !== undefined) {
      active.abort()
      return
    }
    for (let i = this.#queueHead; i < this.#queue.length; i++) {
      if (this.#queue[i]?.[1] === id) {
        this.#queue.splice(i, 1)
        const error = new AbortedError(`task ${id} was aborted before it started`)
        this.#push([ToParentKind.ERROR, id, serializeError(error), -1])
        return
      }
    }
  }

  /** Gives back every task not started yet. */
  #reclaim(): void {
    const ids = this.#queue.slice(this.#queueHead).map((task) => task[1])
    this.#queue = []
    this.#queueHead = 0
    this.#push([ToParentKind.RETURNED, ids])
  }

  #next(): RunMessage | undefined {
    const task = this.#queue[this.#queueHead]
    if (task === undefined) {
      this.#queue = []
      this.#queueHead = 0
      return undefined
    }
    this.#queueHead++
    return task
  }

  async #drain(): Promise<void> {
    this.#draining = true
    this.#lastYield = performance.now()
    try {
      for (let task = this.#next(); task !== undefined; task = this.#next()) {
        const pending = this.#runOne(task)
        if (pending !== undefined) {
          // Until the task ends, or secedes (its wait frees the child for the next task).
          if (this.#running?.id === task[1]) {
            await new Promise<void>((resolve) => {
              this.#release = resolve
              void pending.then(resolve)
            })
          }
          this.#release = undefined
          this.#lastYield = performance.now()
        } else if (
          this.#queueHead < this.#queue.length &&
          this.#endedAt - this.#lastYield > YIELD_AFTER_MS
        ) {
          this.#flush()
          await new Promise((resolve) => setImmediate(resolve))
          this.#lastYield = performance.now()
        }
      }
    } catch (error) {
      this.reportFatal(error)
    } finally {
      this.#draining = false
    }
    this.#flush()
    this.#exitIfStopped()
  }

  /** Runs one task. Synchronous unless the function must load or returns a promise. */
  #runOne(task: RunMessage): Promise<void> | undefined {
    const [, id, fnId, args, attempt, chunk] = task
    const context = new RunningTaskContext(id, attempt, this)
    this.#running = context
    let got: LoadedFunction | Promise<LoadedFunction>
    try {
      got = this.#fns.get(fnId)
    } catch (error) {
      this.#finish(context, undefined, true, error, -1, performance.now())
      return undefined
    }
    if (got instanceof Promise) {
      this.#flush()
      return got.then(
        (loaded) => this.#call(context, loaded, args, chunk === 1),
        (error: unknown) => this.#finish(context, undefined, true, error, -1, performance.now()),
      )
    }
    return this.#call(context, got, args, chunk === 1)
  }

  #call(
    context: RunningTaskContext,
    loaded: LoadedFunction,
    args: Uint8Array,
    chunk: boolean,
  ): Promise<void> | undefined {
    let start = performance.now()
    if (
      this.#outbox.length > 0 &&
      (loaded.lastDurationMs > FLUSH_AFTER_MS || start - this.#outboxSince > FLUSH_AFTER_MS)
    ) {
      this.#flush()
      start = performance.now()
    }
    setCurrentTask(context)
    let value: unknown
    try {
      const decoded = this.#decoder.decode(args)
      if (!Array.isArray(decoded)) throw new TypeError('the task arguments are not an array')
      if (chunk) {
        value = runChunk(loaded.fn, decoded[0], (error) =>
          serializeError(explainScopeError(loaded, error)),
        )
      } else {
        // It may wait while other tasks run here: its continuations must still see it (a
        // function that is not `async` may return a promise too).
        value = taskStorage.run(context, loaded.fn, ...(decoded as unknown[]))
      }
    } catch (error) {
      this.#done(context, loaded, start, undefined, true, error)
      return undefined
    }
    if (!isThenable(value)) {
      this.#done(context, loaded, start, value, false, undefined)
      return undefined
    }
    this.#flush()
    return Promise.resolve(value).then(
      (v) => this.#done(context, loaded, start, v, false, undefined),
      (error: unknown) => this.#done(context, loaded, start, undefined, true, error),
    )
  }

  #done(
    context: RunningTaskContext,
    loaded: LoadedFunction,
    start: number,
    value: unknown,
    failed: boolean,
    error: unknown,
  ): void {
    const end = performance.now()
    // Its own running time: what it spent waiting for its children is not its function's.
    const durationMs = end - start - context.waitedMs
    loaded.lastDurationMs = durationMs
    if (this.#running === context) setCurrentTask(undefined)
    this.#finish(
      context,
      value,
      failed,
      failed ? explainScopeError(loaded, error) : undefined,
      Math.round(durationMs * 1000),
      end,
    )
  }

  /** Task `context` ended at `now` (`performance.now()`): report it. */
  #finish(
    context: RunningTaskContext,
    value: unknown,
    failed: boolean,
    error: unknown,
    durationUs: number,
    now: number,
  ): void {
    this.#endedAt = now
    // A task that seceded ends outside the drain loop: its result leaves at once.
    const detached = this.#running !== context
    if (detached) this.#detached.delete(context.id)
    else this.#running = null
    this.#report(context.id, value, failed, error, durationUs, now)
    if (detached) {
      this.#flush()
      this.#exitIfStopped()
    }
  }

  #report(
    id: number,
    value: unknown,
    failed: boolean,
    error: unknown,
    durationUs: number,
    now: number,
  ): void {
    if (!failed) {
      try {
        this.#push(
          [
            ToParentKind.RESULT,
            id,
            encodeValue(this.#encoder, value, 'the return value'),
            durationUs,
          ],
          now,
        )
        return
      } catch (encodeError) {
        error = encodeError
      }
    }
    this.#push([ToParentKind.ERROR, id, serializeError(error), durationUs], now)
  }

  /** Queues a message; `now` is the time, when the caller has just read the clock. */
  #push(message: ToParent, now?: number): void {
    if (this.#outbox.length === 0) this.#outboxSince = now ?? performance.now()
    this.#outbox.push(message)
  }

  #flush(): void {
    if (this.#outbox.length === 0 || this.#finalReported) return
    const batch = this.#outbox
    this.#outbox = []
    this.#channel.send(batch)
  }

  /** The last flush, from an exit or crash handler. */
  #flushFinal(): void {
    const batch = this.#outbox
    this.#outbox = []
    try {
      if (batch.length > 0) this.#channel.send(batch)
    } catch {
      // The parent is gone; nobody is left to tell.
    }
  }
}
