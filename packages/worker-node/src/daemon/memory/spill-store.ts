import { createHash } from 'node:crypto'
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs'
import { open, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as zlib from 'node:zlib'

import { DataLostError } from '@clusterpool/protocol'

/**
 * Held values on disk: one file per key in a fresh folder of its own, removed by `close()` (and
 * on exit). Every read and write is asynchronous, so the event loop (heartbeats, pings) goes on
 * while bytes move.
 *
 * A file is a 20-byte header and the value:
 *
 * ```text
 *   0  "CPSP"   magic
 *   4  u32 LE   format (1)
 *   8  u64 LE   value length, bytes
 *  16  u32 LE   CRC-32 of the value
 *  20  …        the value
 * ```
 *
 * A file that is missing, short, or whose checksum does not match is a `DataLostError` for its
 * key.
 */
export class SpillStore {
  readonly directory: string
  readonly #maxBytes: number
  #bytes = 0
  #closed = false
  readonly #onExit = (): void => this.#removeNow()

  /**
   * @param parent where the store's folder is made; default the OS temporary directory.
   * @param maxBytes the most bytes on disk at once (`maxSpillBytes`).
   */
  constructor(parent: string | undefined, maxBytes: number) {
    const base = parent ?? tmpdir()
    mkdirSync(base, { recursive: true })
    this.directory = mkdtempSync(join(base, `clusterpool-worker-${process.pid}-`))
    this.#maxBytes = maxBytes
    process.once('exit', this.#onExit)
  }

  /** Bytes of values on disk (headers not counted). */
  get bytes(): number {
    return this.#bytes
  }

  /**
   * Writes `value` under `key`. Rejects with `SpillFullError` when it would pass `maxSpillBytes`
   * or the disk is full (`ENOSPC`, `EDQUOT`); what was written of it is removed.
   */
  async write(key: string, value: Uint8Array): Promise<void> {
    if (this.#closed) throw new SpillFullError('the spill store is closed')
    if (this.#bytes + value.byteLength > this.#maxBytes)
      throw new SpillFullError(
        `maxSpillBytes (${this.#maxBytes}) would be passed by ${value.byteLength} more bytes`,
      )
    this.#bytes += value.byteLength
    const file = this.#path(key)
    try {
      const handle = await open(file, 'w')
      try {
        const header = Buffer.alloc(HEADER_BYTES)
        header.write(MAGIC, 0, 'latin1')
        header.writeUInt32LE(FORMAT, 4)
        header.writeBigUInt64LE(BigInt(value.byteLength), 8)
        header.writeUInt32LE(crc32(value), 16)
        await handle.write(header)
        await handle.write(value)
      } finally {
        await handle.close()
      }
    } catch (error) {
      this.#bytes -= value.byteLength
      await rm(file, { force: true }).catch(() => {})
      const code = (error as NodeJS.ErrnoException).code
      if (code === 'ENOSPC' || code === 'EDQUOT')
        throw new SpillFullError(`the disk is full (${code})`, { cause: error })
      throw error
    }
  }

  /** Reads `key`'s value back; `DataLostError` if its file is missing or corrupt. */
  async read(key: string, size: number): Promise<Uint8Array> {
    let bytes: Buffer
    try {
      bytes = await readFile(this.#path(key))
    } catch (error) {
      throw new DataLostError(`the spill file of ${key} could not be read`, { cause: error })
    }
    const problem = check(bytes, size)
    if (problem !== undefined)
      throw new DataLostError(`the spill file of ${key} is corrupt: ${problem}`)
    return bytes.subarray(HEADER_BYTES)
  }

  /** Removes `key`'s file (its value is back in memory, or released); `size` as written. */
  remove(key: string, size: number): void {
    this.#bytes = Math.max(0, this.#bytes - size)
    void rm(this.#path(key), { force: true }).catch(() => {})
  }

  /** The file of `key` (for tests and the curious). */
  pathOf(key: string): string {
    return this.#path(key)
  }

  /** Removes the folder and everything in it. */
  close(): void {
    if (this.#closed) return
    this.#closed = true
    process.removeListener('exit', this.#onExit)
    this.#removeNow()
  }

  #removeNow(): void {
    try {
      rmSync(this.directory, { recursive: true, force: true })
    } catch {
      // Best effort: a temporary folder.
    }
  }

  /** Keys are peer-chosen strings: the file name is their hash. */
  #path(key: string): string {
    return join(this.directory, createHash('sha1').update(key).digest('hex'))
  }
}

/** No room to spill: the disk is full, or `maxSpillBytes` would be passed. */
export class SpillFullError extends Error {
  override readonly name = 'SpillFullError'
}

const MAGIC = 'CPSP'
const FORMAT = 1
const HEADER_BYTES = 20

function check(bytes: Buffer, size: number): string | undefined {
  if (bytes.byteLength < HEADER_BYTES) return `${bytes.byteLength} bytes, shorter than its header`
  if (bytes.toString('latin1', 0, 4) !== MAGIC) return 'no spill header'
  if (bytes.readUInt32LE(4) !== FORMAT) return `unknown format ${bytes.readUInt32LE(4)}`
  const length = Number(bytes.readBigUInt64LE(8))
  if (length !== size || bytes.byteLength - HEADER_BYTES !== length)
    return `${bytes.byteLength - HEADER_BYTES} bytes where ${size} were written`
  if (bytes.readUInt32LE(16) !== crc32(bytes.subarray(HEADER_BYTES))) return 'checksum mismatch'
  return undefined
}

/** CRC-32 (zlib's, Node ≥ 20.15); older Node: the first 4 bytes of a SHA-1. */
const zlibCrc32 = (zlib as { crc32?: (data: Uint8Array) => number }).crc32
function crc32(data: Uint8Array): number {
  if (zlibCrc32 !== undefined) return zlibCrc32(data) >>> 0
  return createHash('sha1').update(data).digest().readUInt32LE(0)
}
