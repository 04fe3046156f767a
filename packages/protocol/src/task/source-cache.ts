import { InvalidTaskError } from '../errors/errors.js'
import type { WireSourceFnRef } from '../messages/common.js'
import { sourceHash, type SourceFnRef } from './fn-ref.js'

export interface SourceCacheOptions {
  /**
   * Sources that nothing holds (no live task, no peer that may refer to them by hash alone)
   * are kept for reuse, the least recently used dropped first, up to this many bytes of source
   * text (UTF-16 code units count as one byte each). Default 16 MiB.
   */
  idleBytes?: number
  /** …and up to this many idle sources. Default 1024. */
  idleEntries?: number
}

/** The defaults of `SourceCacheOptions`. */
export const SOURCE_CACHE_DEFAULTS = Object.freeze({ idleBytes: 16 * 2 ** 20, idleEntries: 1024 })

interface Entry {
  readonly ref: SourceFnRef
  /** Holders: live tasks, and peers that were sent (or sent) the source. */
  refs: number
}

/**
 * Shipped function sources by hash, as the coordinator and the workers keep them.
 *
 * - **Verified.** A source is kept only under its own hash (`sourceHash`): a reference whose
 *   source does not hash to its `hash` is refused with `InvalidTaskError`, so one peer cannot
 *   make another's tasks run its code.
 * - **Bounded.** Each entry counts its holders (`acquire` / `release`). An entry nobody holds
 *   is idle: it stays for reuse in least-recently-used order within `idleBytes` and
 *   `idleEntries`, and the oldest go first. Held entries are never dropped, so a peer that may
 *   still name a source by hash alone must hold it.
 *
 * ```
 *   resolve(ref with source) ──▶ held (refs > 0) ◀──acquire── idle (LRU) ──evicted──▶ gone
 *                                     └─────────release to 0──────▶┘
 * ```
 *
 * Pure: no I/O, no timers.
 */
export class SourceCache {
  readonly #entries = new Map<string, Entry>()
  /** Idle entries by hash, oldest first (a Map keeps insertion order). */
  readonly #idle = new Map<string, Entry>()
  readonly #idleBytesLimit: number
  readonly #idleEntriesLimit: number
  #idleBytes = 0
  #bytes = 0

  constructor(options: SourceCacheOptions = {}) {
    this.#idleBytesLimit = options.idleBytes ?? SOURCE_CACHE_DEFAULTS.idleBytes
    this.#idleEntriesLimit = options.idleEntries ?? SOURCE_CACHE_DEFAULTS.idleEntries
  }

  /** Sources kept, held and idle. */
  get size(): number {
    return this.#entries.size
  }

  /** Bytes of source text kept, held and idle. */
  get bytes(): number {
    return this.#bytes
  }

  /** Idle sources kept. */
  get idleSize(): number {
    return this.#idle.size
  }

  /**
   * The source a wire reference names. With its text, the text is verified against the hash
   * and kept. Without, it is the kept one, or undefined if none is. With `acquire`, the caller
   * becomes a holder (as `acquire(hash)`), so the entry cannot be dropped in between.
   * @throws InvalidTaskError when the text does not hash to `ref.hash`.
   */
  resolve(ref: WireSourceFnRef, acquire = false): SourceFnRef | undefined {
    let entry = this.#entries.get(ref.hash)
    if (entry) {
      if (ref.source !== undefined && ref.source !== entry.ref.source) this.#mismatch(ref)
    } else {
      if (ref.source === undefined) return undefined
      if (sourceHash(ref.source) !== ref.hash) this.#mismatch(ref)
      entry = {
        ref: { kind: 'source', hash: ref.hash, source: ref.source, name: ref.name },
        refs: 0,
      }
      this.#entries.set(ref.hash, entry)
      this.#bytes += entry.ref.source.length
      if (!acquire) {
        this.#makeIdle(entry)
        return entry.ref
      }
      entry.refs = 1
      return entry.ref
    }
    if (acquire) this.acquire(ref.hash)
    else this.#touch(entry)
    return entry.ref
  }

  /** The kept source under `hash`, if any. */
  get(hash: string): SourceFnRef | undefined {
    return this.#entries.get(hash)?.ref
  }

  /** One more holder of `hash`; false if no source is kept under it. */
  acquire(hash: string): boolean {
    const entry = this.#entries.get(hash)
    if (!entry) return false
    if (entry.refs++ === 0) {
      this.#idle.delete(hash)
      this.#idleBytes -= entry.ref.source.length
    }
    return true
  }

  /** One holder fewer; at none the source turns idle (and may be dropped). */
  release(hash: string): void {
    const entry = this.#entries.get(hash)
    if (!entry || entry.refs === 0) return
    if (--entry.refs === 0) this.#makeIdle(entry)
  }

  /** Drops everything (a peer's link was reset). */
  clear(): void {
    this.#entries.clear()
    this.#idle.clear()
    this.#idleBytes = 0
    this.#bytes = 0
  }

  #touch(entry: Entry): void {
    if (entry.refs > 0) return
    // Most recently used goes last.
    this.#idle.delete(entry.ref.hash)
    this.#idle.set(entry.ref.hash, entry)
  }

  #makeIdle(entry: Entry): void {
    this.#idle.set(entry.ref.hash, entry)
    this.#idleBytes += entry.ref.source.length
    for (const [hash, oldest] of this.#idle) {
      if (this.#idleBytes <= this.#idleBytesLimit && this.#idle.size <= this.#idleEntriesLimit)
        break
      this.#idle.delete(hash)
      this.#entries.delete(hash)
      this.#idleBytes -= oldest.ref.source.length
      this.#bytes -= oldest.ref.source.length
    }
  }

  #mismatch(ref: WireSourceFnRef): never {
    throw new InvalidTaskError(
      `the source sent for function ${ref.name || '<anonymous>'} does not match its hash ` +
        `${ref.hash}: a function is named by the hash of its own source`,
    )
  }
}
