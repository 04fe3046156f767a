import { renameSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

import { DataLostError, type HeartbeatMemory } from '@clusterpool/protocol'
import { formatShares } from '@clusterpool/pool'
import type { Logger } from 'pino'

import type { HeldData } from '../held-data.js'
import { collectGarbage } from './gc.js'
import { MemoryMachine, type MemoryDecision, type MemoryState } from './memory-state.js'
import type { ResolvedMemoryOptions } from './options.js'
import { processRssBytes } from './rss.js'
import { SpillFullError, SpillStore } from './spill-store.js'

/** What the manager needs from the daemon around it. */
export interface MemoryHost {
  /** The daemon's held values (`WorkerState.held`). */
  readonly held: HeldData
  /** Process ids of the live task processes. */
  childPids(): number[]
  /** Kill the task processes (their running tasks fail with `WorkerDiedError` naming `reason`). */
  restartChildren(reason: string): void
  /** Paused changed: tell the coordinator (`memoryPause`). */
  onPause(paused: boolean): void
  readonly log: Logger
}

/** Spill writes in flight at once, at most. */
const MAX_WRITES_IN_FLIGHT = 4
/** After a full disk, try spilling again this long later (someone may have made room). Milliseconds. */
const DISK_FULL_RETRY_MS = 10_000
/** A new share is written to the share file only when it moved by at least this much. Bytes. */
const SHARE_STEP_BYTES = 2 ** 20

/**
 * The I/O shell around `MemoryMachine`: every `memoryMonitorIntervalMs` it samples the RSS of
 * the daemon and its task processes, feeds the machine, and carries out its answer: spill
 * least-recently-used held values to the `SpillStore` (asynchronously; the values stay readable
 * in memory until their file is written), tell the coordinator about a pause, move the task
 * processes' share (the file their guards read), restart the task processes.
 *
 * Reading back (`load`) is for the daemon to ask before a task, a fetch or a relay needs a
 * spilled value.
 */
export class MemoryManager {
  readonly options: ResolvedMemoryOptions
  readonly store: SpillStore
  /** The file the task processes' guards read their share from (`TaskPoolOptions.rssShareFile`). */
  readonly shareFile: string
  readonly #machine: MemoryMachine
  readonly #host: MemoryHost
  /** Values being written: key → bytes. */
  readonly #writing = new Map<string, number>()
  readonly #loading = new Map<string, Promise<boolean>>()
  #writingBytes = 0
  #diskFullAt = -Infinity
  #lastShare = -1
  /** The allowances last written, by pid. */
  #lastAllowances = new Map<number, number>()
  #timer: NodeJS.Timeout | undefined
  #last: MemoryDecision | undefined
  #peakRssBytes = 0
  #spilledTotal = 0

  constructor(options: ResolvedMemoryOptions, procs: number, host: MemoryHost) {
    this.options = options
    this.#host = host
    this.#machine = new MemoryMachine(options, procs)
    this.store = new SpillStore(options.localDirectory, options.maxSpillBytes)
    this.shareFile = join(this.store.directory, 'rss-share')
    const daemon = processRssBytes(process.pid)
    this.#writeShare(
      Math.max(
        1,
        Math.floor((options.memoryTerminateFraction * options.memoryLimitBytes - daemon) / procs),
      ),
    )
  }

  get state(): MemoryState {
    return this.#machine.state
  }

  /** The daemon's held values. */
  get held(): HeldData {
    return this.#host.held
  }

  get paused(): boolean {
    return this.#machine.paused
  }

  /** The highest RSS (daemon and task processes together) seen by a sample. Bytes. */
  get peakRssBytes(): number {
    return this.#peakRssBytes
  }

  /** Values written to disk so far. */
  get spilledTotal(): number {
    return this.#spilledTotal
  }

  start(): void {
    if (this.#timer !== undefined) return
    this.#timer = setInterval(() => this.tick(), this.options.memoryMonitorIntervalMs)
    this.#timer.unref()
  }

  /** Stops sampling and removes the spill folder. */
  stop(): void {
    clearInterval(this.#timer)
    this.#timer = undefined
    this.store.close()
  }

  /** One sample, and what follows from it. */
  tick(): void {
    const held = this.#host.held
    const now = performance.now()
    const pids = this.#host.childPids()
    const childRssBytes = pids.map(processRssBytes)
    const d = this.#machine.observe({
      nowMs: now,
      daemonRssBytes: processRssBytes(process.pid),
      childRssBytes,
      managedBytes: held.memoryBytes,
      spillableBytes: Math.max(0, held.memoryBytes - this.#writingBytes),
      spillingBytes: this.#writingBytes,
      diskFull: now - this.#diskFullAt < DISK_FULL_RETRY_MS,
    })
    this.#last = d
    if (d.rssBytes > this.#peakRssBytes) this.#peakRssBytes = d.rssBytes
    this.#writeShares(d.childShareBytes, pids, d.childAllowanceBytes)
    if (d.moved !== undefined) this.#onMove(d)
    if (d.spillBytes > 0) this.#spill(d.spillBytes)
    if (d.restartChildren) {
      const reason =
        `the worker was paused for memory for ${this.options.pausedRestartTimeoutMs} ms with ` +
        `nothing left to spill (RSS ${mib(d.rssBytes)} of a ${mib(this.options.memoryLimitBytes)} ` +
        'memory limit): its task processes were restarted'
      this.#host.log.warn({ rssBytes: d.rssBytes }, reason)
      this.#host.restartChildren(reason)
      this.#machine.restarted(performance.now())
    }
  }

  /** Whether any of `keys` is spilled (and must be read back before use). */
  needsLoad(keys: Iterable<string>): boolean {
    for (const key of keys) if (this.#host.held.spilledSize(key) !== undefined) return true
    return false
  }

  /**
   * Reads the spilled ones of `keys` back into memory. Resolves with the keys that were lost
   * (their files missing or corrupt: they are released and no longer held).
   */
  async load(keys: Iterable<string>): Promise<string[]> {
    const waits: Promise<boolean>[] = []
    const names: string[] = []
    for (const key of new Set(keys)) {
      if (this.#host.held.spilledSize(key) === undefined) continue
      let p = this.#loading.get(key)
      if (p === undefined) {
        p = this.#loadOne(key).finally(() => this.#loading.delete(key))
        this.#loading.set(key, p)
      }
      waits.push(p)
      names.push(key)
    }
    const ok = await Promise.all(waits)
    return names.filter((_, i) => !ok[i])
  }

  /**
   * `key`'s value for a fetch, read from its spill file without bringing it back into managed
   * memory (it is sent and dropped); undefined if it was lost (then it is released).
   */
  async readSpilled(key: string): Promise<Uint8Array | undefined> {
    const held = this.#host.held
    const size = held.spilledSize(key)
    if (size === undefined) return held.get(key)
    try {
      return await this.store.read(key, size)
    } catch (error) {
      if (!(error instanceof DataLostError)) throw error
      this.#host.log.error({ err: error, key }, 'a spilled value is lost')
      if (held.release(key) !== undefined) this.store.remove(key, size)
      return undefined
    }
  }

  /** Values released while spilled: remove their files. */
  forget(files: readonly (readonly [string, number])[]): void {
    for (const [key, size] of files) this.store.remove(key, size)
    if (files.length > 0) this.#diskFullAt = -Infinity
  }

  /** The figures for the heartbeat. */
  heartbeat(): HeartbeatMemory {
    const held = this.#host.held
    return {
      limitBytes: this.options.memoryLimitBytes,
      managedBytes: held.memoryBytes,
      spilledBytes: held.spilledBytes,
      spilledCount: held.spilledCount,
      rssBytes: this.#last?.rssBytes ?? processRssBytes(process.pid),
      state: this.#machine.state,
    }
  }

  #onMove(d: MemoryDecision): void {
    const log = this.#host.log
    const figures = {
      rssBytes: d.rssBytes,
      managedBytes: this.#host.held.memoryBytes,
      limitBytes: this.options.memoryLimitBytes,
    }
    switch (d.moved) {
      case 'pause':
        log.warn(
          figures,
          'memory over the pause fraction (or no room to spill): taking no new tasks',
        )
        this.#host.onPause(true)
        return
      case 'resume':
        log.info(figures, 'memory under the target again: taking tasks')
        this.#host.onPause(false)
        return
      case 'spill':
        log.debug(figures, 'memory over the target: spilling held values to disk')
        return
      case 'settle':
      case 'restart':
      case 'restarted':
      case undefined:
        return
    }
  }

  /** Starts writing the least recently used values, about `bytes` of them. */
  #spill(bytes: number): void {
    const held = this.#host.held
    let started = 0
    for (const [key, value] of held.spillCandidates()) {
      if (started >= bytes || this.#writing.size >= MAX_WRITES_IN_FLIGHT) break
      if (this.#writing.has(key)) continue
      this.#writing.set(key, value.byteLength)
      this.#writingBytes += value.byteLength
      started += value.byteLength
      void this.#write(key, value)
    }
  }

  async #write(key: string, value: Uint8Array): Promise<void> {
    const held = this.#host.held
    let written = false
    try {
      await this.store.write(key, value)
      written = true
      // Released or replaced while it was written: the file is stale.
      if (held.markSpilled(key, value)) this.#spilledTotal++
      else this.store.remove(key, value.byteLength)
    } catch (error) {
      if (error instanceof SpillFullError) {
        if (this.#diskFullAt < 0)
          this.#host.log.warn({ err: error }, 'no room to spill: spilling stops, the worker pauses')
        this.#diskFullAt = performance.now()
      } else {
        this.#host.log.error({ err: error, key }, 'a spill write failed; the value stays in memory')
      }
    } finally {
      this.#writing.delete(key)
      this.#writingBytes -= value.byteLength
      if (this.#writing.size === 0) {
        collectGarbage()
        // Keep going at once rather than a tick later: writes are the bottleneck.
        if (written && this.#last !== undefined && this.#last.spillBytes > 0) this.tick()
      }
    }
  }

  async #loadOne(key: string): Promise<boolean> {
    const held = this.#host.held
    const size = held.spilledSize(key)
    if (size === undefined) return true
    try {
      const value = await this.store.read(key, size)
      if (held.restore(key, value)) this.store.remove(key, size)
      this.#diskFullAt = -Infinity
      return true
    } catch (error) {
      if (!(error instanceof DataLostError)) throw error
      this.#host.log.error({ err: error, key }, 'a spilled value is lost')
      if (held.release(key) !== undefined) this.store.remove(key, size)
      return false
    }
  }

  /**
   * The share file, when a share moved by `SHARE_STEP_BYTES` or more: `share` for new processes,
   * and each process's allowance (what the others leave it, see `MemoryDecision`).
   */
  #writeShares(share: number, pids: readonly number[], allowances: readonly number[]): void {
    const own = new Map<number, number>()
    let moved = Math.abs(share - this.#lastShare) >= SHARE_STEP_BYTES
    for (let i = 0; i < pids.length; i++) {
      const pid = pids[i]!
      const bytes = allowances[i] ?? share
      own.set(pid, bytes)
      const last = this.#lastAllowances.get(pid)
      if (last === undefined || Math.abs(bytes - last) >= SHARE_STEP_BYTES) moved = true
    }
    if (moved || own.size !== this.#lastAllowances.size) {
      this.#lastAllowances = own
      this.#writeShare(share, own)
    }
  }

  #writeShare(bytes: number, own?: ReadonlyMap<number, number>): void {
    this.#lastShare = bytes
    const tmp = `${this.shareFile}.tmp`
    try {
      writeFileSync(tmp, formatShares(bytes, own))
      renameSync(tmp, this.shareFile)
    } catch (error) {
      this.#host.log.error({ err: error }, "could not write the task processes' memory share")
    }
  }
}

function mib(bytes: number): string {
  return `${Math.round(bytes / 2 ** 20)} MiB`
}
