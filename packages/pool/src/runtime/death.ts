import { AbortedError, WorkerDiedError, deserializeError } from '@clusterpool/protocol'

import { describeFatalOrigin } from '../messages.js'
import type { ChildReport } from './child-slot.js'
import type { PoolEntry } from './pool-entry.js'
import type { ChildExit } from './child-handle.js'

/**
 * The errors a task gets when its process or thread goes away under it. Messages name the task,
 * its function and how the child ended: "the process running task 7 (crunch) exited with code 3".
 */

/** How a child ended, as the pool saw it and as the child said. */
export interface ChildDeath {
  readonly kind: 'process' | 'thread'
  readonly exit: ChildExit
  readonly report: ChildReport | undefined
  readonly memoryLimitMb: number | undefined
  /** The pool was asked to kill it, for this reason (`TaskPool.restartChildren`). */
  readonly killReason?: string | undefined
}

/**
 * What becomes of the tasks a dead child held, in its order:
 * - `culprit`, the task it was running: the one it named on its way out; none if it said it
 *   was between tasks, after running at least one (so a child dying at start-up always takes a
 *   task with it, and a pool cannot respawn forever); else the parent's head;
 * - `lost`, those before the culprit: they ran, but their results never came;
 * - `requeue`, those after it: they never started, and go back to the front of the queue.
 */
export function sortOrphans(
  entries: readonly PoolEntry[],
  report: ChildReport | undefined,
  completedAny: boolean,
): { lost: PoolEntry[]; culprit: PoolEntry | undefined; requeue: PoolEntry[] } {
  let culprit: PoolEntry | undefined = entries[0]
  if (report !== undefined && report.runningId !== null) {
    culprit = entries.find((e) => e.id === report.runningId)
  } else if (report !== undefined && completedAny) {
    culprit = undefined
  }
  const at = culprit === undefined ? -1 : entries.indexOf(culprit)
  return { lost: entries.slice(0, Math.max(0, at)), culprit, requeue: entries.slice(at + 1) }
}

export function workerDiedError(
  death: ChildDeath,
  task: PoolEntry,
  running = true,
): WorkerDiedError {
  const { kind, exit, report, memoryLimitMb, killReason } = death
  const subject = running
    ? `the ${kind} running task ${task.id} (${task.fn.label})`
    : `the ${kind} that ran task ${task.id} (${task.fn.label}) before reporting its result`
  let how: string
  let cause: unknown = exit.error
  const errorCode = (exit.error as { code?: unknown } | undefined)?.code
  if (report?.kind === 'fatal') {
    const error = deserializeError(report.error)
    cause = error
    how =
      `exited with code ${exit.code ?? 1} after an ${describeFatalOrigin(report.origin)}: ` +
      `${error.name}: ${error.message}`
  } else if (killReason !== undefined) {
    how = `was killed: ${killReason}`
  } else if (exit.memory !== undefined) {
    how =
      `was killed for using too much memory: its resident memory reached ${mib(exit.memory.rssBytes)}, ` +
      `over its share of ${mib(exit.memory.shareBytes)} of the worker's memory limit`
    cause = new Error(
      `memory: RSS ${exit.memory.rssBytes} bytes over the process's share ${exit.memory.shareBytes} bytes`,
    )
  } else if (errorCode === 'ERR_WORKER_OUT_OF_MEMORY') {
    how = `ran out of memory${memoryLimitMb === undefined ? '' : ` (memoryLimitMb: ${memoryLimitMb})`}`
  } else if (exit.signal !== null) {
    how = `was killed by signal ${exit.signal}`
    if (exit.signal === 'SIGABRT') how += ' (Node ends this way when it runs out of memory)'
  } else if (exit.code !== null) {
    how = `exited with code ${exit.code}`
    if (exit.error !== undefined) how += `: ${exit.error.message}`
  } else {
    how = `ended: ${exit.error?.message ?? 'for an unknown reason'}`
  }
  return new WorkerDiedError(
    `${subject} ${how}`,
    exit.code,
    exit.signal,
    cause === undefined ? undefined : { cause },
  )
}

function mib(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(1)} MiB`
}

export function forceClosedRunningError(
  kind: 'process' | 'thread',
  task: PoolEntry,
): WorkerDiedError {
  return new WorkerDiedError(
    `the pool was closed with force while task ${task.id} (${task.fn.label}) was running; ` +
      `its ${kind} was killed`,
    null,
    kind === 'process' ? 'SIGKILL' : null,
  )
}

export function forceClosedQueuedError(task: PoolEntry): AbortedError {
  return new AbortedError(
    `the pool was closed with force before task ${task.id} (${task.fn.label}) started`,
  )
}

export function abortedQueuedError(task: PoolEntry): AbortedError {
  return new AbortedError(`task ${task.id} (${task.fn.label}) was aborted before it started`)
}
