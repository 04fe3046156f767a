/**
 * Copies a byte view out of the buffer it points into when that buffer is much larger (a whole
 * decoded frame, a pipe's read chunk), so that one value kept long does not keep the rest alive.
 * Returns `bytes` itself when it already (nearly) owns its buffer.
 *
 * Decoded byte fields are `Buffer`s, whose `slice` is a view, not a copy: the copy is made
 * explicitly, with `Buffer.allocUnsafe`, which takes values under 4 KiB from Node's shared pool
 * (a small value then pins at most one 8 KiB pool slab, and costs no allocation of its own).
 */
export function detachBytes(bytes: Uint8Array): Uint8Array {
  if (bytes.buffer.byteLength <= 4 * bytes.byteLength + 4096) return bytes
  const copy = Buffer.allocUnsafe(bytes.byteLength)
  copy.set(bytes)
  return copy
}
