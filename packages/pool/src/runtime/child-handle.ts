import type { ToChild, ToParent } from '../messages.js'

/** How a process or thread ended. */
export interface ChildExit {
  /** The exit code, or null when a signal ended the process. */
  readonly code: number | null
  /** The signal that ended the process (`SIGKILL`), or null. */
  readonly signal: NodeJS.Signals | null
  /**
   * What the runtime itself reported: a thread's `error` event (such as
   * `ERR_WORKER_OUT_OF_MEMORY`), a failure to start, or a malformed frame from the child.
   */
  readonly error: Error | undefined
  /** The process's memory guard killed it: its RSS went past its share. Bytes. */
  readonly memory?: { readonly rssBytes: number; readonly shareBytes: number }
}

export interface ChildHandleEvents {
  /** A batch of messages from the child. */
  onMessages(messages: ToParent[]): void
  /** Once, after every message the child sent before it ended has been delivered. */
  onExit(exit: ChildExit): void
}

/**
 * One child process or worker thread, seen from the pool. `ProcessChild` and `ThreadChild`
 * implement it; the pool never knows which it holds.
 */
export interface ChildHandle {
  readonly kind: 'process' | 'thread'
  /** The child's process id (threads: the parent's own). */
  readonly pid: number | undefined
  /** The worker thread's id, or undefined for a process. */
  readonly threadId: number | undefined
  /** Sends one batch. Ignored once the child has ended. */
  send(messages: readonly ToChild[]): void
  /** Ends the child now (SIGKILL, or `terminate()` for a thread). */
  kill(): void
  /** Whether the child keeps the parent's event loop alive. */
  setRef(ref: boolean): void
}
