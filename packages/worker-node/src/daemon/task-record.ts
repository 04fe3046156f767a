// A task as the worker's state holds it (`TaskRecord`), and the fixed answers the worker gives
// about tasks: to a running task's executor after an outage, and for a result too large to send.
import {
  ConnectionLostError,
  ErrorCode,
  FRAME_ENVELOPE_BYTES,
  PayloadTooLargeError,
  createEncoder,
  encodeFrame,
} from '@clusterpool/protocol'

import type { WorkerTaskState } from './states.js'
import type { WorkerInstruction } from './worker-events.js'

/** The answer to an orphan's executor that sent more than `MAX_DEFERRED` messages. */
export const UNCLAIMED = new ConnectionLostError(
  'the coordinator restarted and has not claimed this task again yet; too many of its submits ' +
    'are waiting for it to (submit again later)',
)

/** A result past `maxPayload` less `FRAME_ENVELOPE_BYTES` fails its task with this. */
export function resultTooLarge(byteLength: number, maxPayload: number): PayloadTooLargeError {
  return new PayloadTooLargeError(
    `the task's result is ${byteLength} bytes encoded, over what a frame to the coordinator ` +
      `may carry (its maxPayload of ${maxPayload} bytes, less ${FRAME_ENVELOPE_BYTES} for ` +
      `the envelope); return a smaller value (large data belongs in files or a store), or ` +
      `raise the coordinator's maxPayload`,
  )
}

/** When the coordinator does not say (`holdResultsOverBytes` left out of its welcome). Bytes. */
export const DEFAULT_HOLD_OVER_BYTES = 64 * 1024

/** A task this worker was assigned and has not finished. */
export interface TaskRecord {
  readonly key: string
  /** The pool's id for it. */
  readonly id: number
  /** Assigned with `keep`: the result stays here and only its size is reported. */
  readonly keep: boolean
  state: WorkerTaskState
  /**
   * Kept through an outage of the coordinator and not assigned again since: its report goes to
   * the `ReportLog` (nobody asked for it yet), and an `assign` of its key binds to this run.
   */
  orphan: boolean
  /**
   * What an orphan's executor sent meanwhile (submits, secede and rejoin), in order: the
   * coordinator does not know the task until it claims it, and would drop these as reports on
   * a task this worker does not hold; they go out when it claims it (see `#adopt`).
   */
  deferred?: WorkerInstruction[]
}

/** The most messages an orphan's executor may have wait for the coordinator to claim it. */
export const MAX_DEFERRED = 256

/** Told to running tasks' executors after an outage (see `connected`): a `refuse` frame. */
export const EXECUTOR_LOST = encodeFrame(createEncoder(), [
  {
    kind: 'refuse',
    code: ErrorCode.CONNECTION_LOST,
    message:
      "the worker lost the coordinator while this task ran: the task's unfinished children " +
      'are not known to it any more',
  },
])
