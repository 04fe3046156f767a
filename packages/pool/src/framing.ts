/**
 * Length-prefixed frames for the byte pipes between the pool and its child processes.
 *
 * ```
 * ┌──────────────────────────┬─────────────────────────────┐
 * │ length: uint32 big-endian│ payload: `length` bytes     │
 * └──────────────────────────┴─────────────────────────────┘
 * ```
 *
 * Pure: no I/O. `encodePipeFrame` builds one frame; a `FrameReader` is fed the chunks a stream
 * delivers, in any split, and hands back whole payloads.
 */

/** Bytes in the length prefix. */
export const FRAME_HEADER_BYTES = 4

/** The largest payload a frame may carry: 1 GiB, far above any sane batch of tasks. */
export const MAX_FRAME_BYTES = 1024 * 1024 * 1024

/** Raised by `FrameReader.push` when a header announces more than the reader accepts. */
export class FrameTooLargeError extends Error {
  constructor(
    readonly length: number,
    readonly maxBytes: number,
  ) {
    super(`a frame announced ${length} bytes, more than the ${maxBytes} allowed`)
  }
}

/** Prefixes `payload` with its length, in one new buffer. */
export function encodePipeFrame(payload: Uint8Array): Buffer {
  if (payload.byteLength > MAX_FRAME_BYTES) {
    throw new FrameTooLargeError(payload.byteLength, MAX_FRAME_BYTES)
  }
  const frame = Buffer.allocUnsafe(FRAME_HEADER_BYTES + payload.byteLength)
  frame.writeUInt32BE(payload.byteLength, 0)
  frame.set(payload, FRAME_HEADER_BYTES)
  return frame
}

/**
 * Reassembles frames from stream chunks.
 *
 * ```
 *              4 bytes buffered: length known
 *   ┌────────────┐ ─────────────────────────► ┌──────────────┐
 *   │ READ_HEADER│                            │ READ_PAYLOAD │
 *   └────────────┘ ◄───────────────────────── └──────────────┘
 *                   `length` bytes buffered: emit the payload
 * ```
 *
 * `#expected` is the state: -1 while reading a header, else the payload length awaited. A
 * payload that lies inside one chunk is returned as a view of that chunk (no copy); one that
 * spans chunks is copied once into its own buffer.
 */
export class FrameReader {
  readonly #maxBytes: number
  #chunks: Buffer[] = []
  #buffered = 0
  /** The announced length of the frame being read, or -1 while reading a header. */
  #expected = -1

  constructor(maxBytes = MAX_FRAME_BYTES) {
    this.#maxBytes = maxBytes
  }

  /** Bytes held that do not yet form a whole frame. */
  get bufferedBytes(): number {
    return this.#buffered
  }

  /** Feeds one chunk; returns the payloads it completed, in order. Throws `FrameTooLargeError`. */
  push(chunk: Uint8Array): Buffer[] {
    const frames: Buffer[] = []
    let buf = Buffer.isBuffer(chunk)
      ? chunk
      : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength)
    // Fast path: between frames with nothing buffered, read frames straight out of this chunk.
    if (this.#buffered === 0 && this.#expected < 0) {
      let offset = 0
      while (buf.length - offset >= FRAME_HEADER_BYTES) {
        const length = buf.readUInt32BE(offset)
        this.#check(length)
        const end = offset + FRAME_HEADER_BYTES + length
        if (end > buf.length) break
        frames.push(buf.subarray(offset + FRAME_HEADER_BYTES, end))
        offset = end
      }
      if (offset === buf.length) return frames
      buf = buf.subarray(offset)
    }
    this.#chunks.push(buf)
    this.#buffered += buf.length
    for (;;) {
      if (this.#expected < 0) {
        if (this.#buffered < FRAME_HEADER_BYTES) return frames
        const length = this.#take(FRAME_HEADER_BYTES).readUInt32BE(0)
        this.#check(length)
        this.#expected = length
      }
      if (this.#buffered < this.#expected) return frames
      frames.push(this.#take(this.#expected))
      this.#expected = -1
    }
  }

  #check(length: number): void {
    if (length > this.#maxBytes) throw new FrameTooLargeError(length, this.#maxBytes)
  }

  /** Removes and returns the first `n` buffered bytes. */
  #take(n: number): Buffer {
    const first = this.#chunks[0]
    if (first !== undefined && first.length >= n) {
      this.#buffered -= n
      if (first.length === n) this.#chunks.shift()
      else this.#chunks[0] = first.subarray(n)
      return first.subarray(0, n)
    }
    const out = Buffer.allocUnsafe(n)
    let filled = 0
    while (filled < n) {
      const chunk = this.#chunks[0]
      if (chunk === undefined) throw new Error('FrameReader: took more bytes than buffered')
      const part = Math.min(chunk.length, n - filled)
      chunk.copy(out, filled, 0, part)
      filled += part
      if (part === chunk.length) this.#chunks.shift()
      else this.#chunks[0] = chunk.subarray(part)
    }
    this.#buffered -= n
    return out
  }
}
