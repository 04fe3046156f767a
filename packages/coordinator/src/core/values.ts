import {
  DataLostError,
  FRAME_ENVELOPE_BYTES,
  PayloadTooLargeError,
  ProtocolError,
  serializeError,
} from '@clusterpool/protocol'

import type { ClientTask } from './client-task.js'
import type { CoreState } from './core-state.js'

/**
 * Sends the value of a finished task to its client (the answer to `gather`): from here when it
 * is `inline`, else fetched from a worker holding it (through the relay), trying the holders in
 * turn. A task being computed again (its holders were lost) regathers: the value goes out when
 * the scheduler has it again (see `Dispatcher`). Anything else is answered with an error.
 * `sent`, when given, is called once, when the answer is queued: with the value's bytes, or 0.
 */
export function sendValue(
  s: CoreState,
  task: ClientTask,
  tried?: Set<string>,
  sent?: (bytes: number) => void,
): void {
  const link = task.client.link
  const value = task.value
  if (value !== undefined) {
    if (refusedAsTooLarge(s, task, value.byteLength)) return sent?.(0)
    link.pushItem('results', 'items', { id: task.id, value })
    sent?.(value.byteLength)
    return
  }
  const state = s.scheduler.task(task.key)?.state
  if (state === 'erred' && task.error) {
    link.pushItem('errors', 'items', { id: task.id, error: task.error })
    sent?.(0)
    return
  }
  if (state === 'waiting' || state === 'queued' || state === 'processing') {
    // Lost and being computed again: sent when it is back in memory.
    if (task.state === 'settled') task.to('regather')
    sent?.(0)
    return
  }
  const from = s.scheduler.whoHas(task.key).find((w) => !tried?.has(w))
  if (from === undefined) {
    const error =
      state === 'memory'
        ? new DataLostError(
            `the value of ${s.label(task.key)} could not be fetched from its workers`,
          )
        : new ProtocolError(
            `gather: ${s.label(task.key)} has no value (state ${state ?? 'forgotten'})`,
          )
    link.pushItem('errors', 'items', { id: task.id, error: serializeError(error) })
    sent?.(0)
    return
  }
  if (refusedAsTooLarge(s, task, s.scheduler.task(task.key)?.nbytes ?? 0)) return sent?.(0)
  s.relay.fetch(task.key, from, {
    value: (bytes) => {
      link.pushItem('results', 'items', { id: task.id, value: bytes })
      sent?.(bytes.byteLength)
    },
    missing: () => sendValue(s, task, (tried ?? new Set()).add(from), sent),
  })
}

/**
 * Whether `task`'s value, of `nbytes`, is too big for a frame its client takes (its hello's
 * `maxPayload`); if so, the client is told so for that task (`PayloadTooLargeError`).
 */
export function refusedAsTooLarge(s: CoreState, task: ClientTask, nbytes: number): boolean {
  const limit = task.client.maxPayload
  if (nbytes + FRAME_ENVELOPE_BYTES <= limit) return false
  const error = new PayloadTooLargeError(
    `the value of ${s.label(task.key)} is ${nbytes} bytes, over what this client takes in a ` +
      `frame (its maxPayload of ${limit} bytes, less ${FRAME_ENVELOPE_BYTES} for the envelope); ` +
      `pass a larger maxPayload to ClusterExecutor.connect to receive it`,
  )
  task.client.link.pushItem('errors', 'items', { id: task.id, error: serializeError(error) })
  return true
}
