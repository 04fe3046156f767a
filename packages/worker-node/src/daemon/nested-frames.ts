import {
  Direction,
  FRAME_ENVELOPE_BYTES,
  PayloadTooLargeError,
  createDecoder,
  createEncoder,
  decodeFrame,
  encodeFrame,
  serializeError,
  type ErrorItem,
} from '@clusterpool/protocol'

const decoder = createDecoder()
const encoder = createEncoder()

/**
 * A running task's frame that would not fit in a frame to the coordinator (`maxPayload`, less
 * the room the `nested` message around it takes) is not forwarded: sending it would make the
 * coordinator close this worker's connection. Instead the task's executor is answered here: an
 * error for each task and scattered value the frame held. Returns that answer (empty when the
 * frame held none, and is just dropped), or undefined when the frame fits.
 */
export function refuseOversize(payload: Uint8Array, maxPayload: number): Uint8Array | undefined {
  if (payload.byteLength + FRAME_ENVELOPE_BYTES <= maxPayload) return undefined
  return refuseFrame(
    payload,
    new PayloadTooLargeError(
      `a task's submit of ${payload.byteLength} bytes is over the coordinator's maxPayload ` +
        `(${maxPayload} bytes, less ${FRAME_ENVELOPE_BYTES} for its envelope); pass large ` +
        'values through scatter from the client, or return them from tasks',
    ),
  )
}

/**
 * The answer to a running task's frame that is not forwarded: `error` for each task and
 * scattered value it held (empty when it held none: it is just dropped).
 */
export function refuseFrame(payload: Uint8Array, refusal: Error): Uint8Array {
  const decoded = decodeFrame(decoder, payload, Direction.CLIENT_TO_COORDINATOR)
  const items: ErrorItem[] = []
  const error = serializeError(refusal)
  if (decoded.ok) {
    for (const m of decoded.messages) {
      if (m.kind === 'submit') for (const t of m.tasks) items.push({ id: t.id, error })
      else if (m.kind === 'scatter') for (const item of m.items) items.push({ id: item.id, error })
    }
  }
  if (items.length === 0) return new Uint8Array(0) // nothing to answer: dropped
  return encodeFrame(encoder, [{ kind: 'errors', items }])
}
