import type { Assign, CoordinatorToWorker, WorkerToCoordinator } from '@clusterpool/protocol'

import { collectGarbage } from './gc.js'
import type { MemoryManager } from './memory-manager.js'

/** Where the inbox hands messages on, and how it tells the coordinator about lost values. */
export interface InboxHost {
  deliver(m: CoordinatorToWorker): void
  /** Sends at once (flushed). */
  send(m: WorkerToCoordinator): void
  /** Resolves when the connection's send buffer is under its high-water mark. */
  drained(): Promise<void>
  /** Resolves when a task process is free and the worker is not paused for memory. */
  room(): Promise<void>
}

/**
 * A task whose inputs (held here, or relayed with it) come to at least this many bytes is
 * handed on only when a task process is free: its inputs are copied into its arguments then,
 * and a batch of such tasks (the coordinator sends data-heavy tasks to where the data is, past
 * the worker's queue cap) would otherwise bring every spilled input back at once.
 */
export const PACED_INPUT_BYTES = 2 ** 20

/** After serving this many bytes from spill files, collect garbage (what was sent is garbage). */
const SERVED_GC_BYTES = 64 * 2 ** 20

/**
 * The coordinator's messages on their way to `WorkerState`, which is synchronous and reads held
 * values from memory only. An `assign` whose inputs are spilled, or a `fetch` of spilled values,
 * waits here while they are read back (asynchronously), and the messages after it wait behind
 * it, so that their order is kept; the rest go straight through.
 *
 * Tasks with big inputs held here (`PACED_INPUT_BYTES`) go on one at a time, each when a task
 * process is free, their spilled inputs read back just before: the inputs of a hundred queued
 * dependents are not all in memory at once.
 *
 * A `fetch` is served from memory for the values there, and for spilled ones straight from
 * their files, one value at a time, each in a `data` message of its own, waiting for the
 * connection to drain between them: a client gathering everything a worker spilled does not
 * bring it all back into the daemon's memory at once.
 *
 * A value that cannot be read back (its spill file missing or corrupt) is lost: the
 * coordinator hears it in a `dataLost` before anything that depends on it (computing it again
 * from its lineage, or failing scattered data with `DataLostError`), and the tasks assigned
 * with it as an input are handed back in the same message instead of being run.
 */
export class MemoryInbox {
  readonly #memory: MemoryManager
  readonly #host: InboxHost
  #queue: CoordinatorToWorker[] = []
  /** A new connection starts a new generation; what waited for the old one is dropped. */
  #generation = 0
  #pumping = false

  constructor(memory: MemoryManager, host: InboxHost) {
    this.#memory = memory
    this.#host = host
  }

  /** Messages waiting for spilled values. */
  get waiting(): number {
    return this.#queue.length
  }

  /** A connection opened: returns its way in. */
  open(): { push(m: CoordinatorToWorker): void } {
    this.close()
    const generation = this.#generation
    return {
      push: (m) => {
        if (generation !== this.#generation) return
        if (
          this.#queue.length === 0 &&
          !this.#memory.needsLoad(spilledInputs(m)) &&
          !this.#paced(m)
        ) {
          this.#host.deliver(m)
          return
        }
        this.#queue.push(m)
        if (!this.#pumping) void this.#pump(generation)
      },
    }
  }

  /** The connection is gone: what waits is dropped (the coordinator reschedules it all). */
  close(): void {
    this.#generation++
    this.#queue = []
    this.#pumping = false
  }

  async #pump(generation: number): Promise<void> {
    this.#pumping = true
    while (generation === this.#generation && this.#queue.length > 0) {
      const m = this.#queue[0]!
      if (m.kind === 'fetch') {
        await this.#serveFetch(m.keys, generation)
        if (generation !== this.#generation) return
        this.#queue.shift()
        continue
      }
      if (m.kind === 'assign') {
        // One task at a time: each may wait for a free process, then for its inputs.
        const [first, ...rest] = m.tasks
        if (first === undefined) {
          this.#queue.shift()
          continue
        }
        const one: Assign = { kind: 'assign', tasks: [first] }
        if (this.#paced(one)) await this.#host.room()
        if (generation !== this.#generation) return
        const keys = spilledInputs(one)
        const lost = this.#memory.needsLoad(keys) ? await this.#memory.load(keys) : []
        if (generation !== this.#generation) return
        if (rest.length > 0) this.#queue[0] = { kind: 'assign', tasks: rest }
        else this.#queue.shift()
        this.#host.deliver(lost.length === 0 ? one : this.#withoutLost(one, lost))
        continue
      }
      const keys = spilledInputs(m)
      const lost = this.#memory.needsLoad(keys) ? await this.#memory.load(keys) : []
      if (generation !== this.#generation) return
      this.#queue.shift()
      this.#host.deliver(lost.length === 0 ? m : this.#withoutLost(m, lost))
    }
    this.#pumping = false
  }

  /** Whether some task of assign `m` has big inputs held here (it waits for a free process). */
  #paced(m: CoordinatorToWorker): boolean {
    if (m.kind !== 'assign') return false
    const held = this.#memory.held
    for (const t of m.tasks) {
      let bytes = 0
      for (const d of t.deps ?? []) bytes += d.value?.byteLength ?? held.sizeOf(d.key) ?? 0
      if (bytes >= PACED_INPUT_BYTES) return true
    }
    return false
  }

  async #serveFetch(keys: readonly string[], generation: number): Promise<void> {
    const inMemory: string[] = []
    const spilled: string[] = []
    for (const key of keys) (this.#memory.needsLoad([key]) ? spilled : inMemory).push(key)
    if (inMemory.length > 0) this.#host.deliver({ kind: 'fetch', keys: inMemory })
    const lost: string[] = []
    let served = 0
    for (const key of spilled) {
      const value = await this.#memory.readSpilled(key)
      if (generation !== this.#generation) return
      if (value === undefined) {
        lost.push(key)
        continue
      }
      this.#host.send({ kind: 'data', items: [{ key, value }] })
      served += value.byteLength
      if (served >= SERVED_GC_BYTES) {
        served = 0
        collectGarbage()
      }
      await this.#host.drained()
      if (generation !== this.#generation) return
    }
    if (lost.length === 0) return
    this.#host.send({ kind: 'dataLost', keys: lost, returned: [] })
    this.#host.send({ kind: 'data', items: [], missing: lost })
  }

  #withoutLost(m: CoordinatorToWorker, lost: readonly string[]): CoordinatorToWorker {
    if (m.kind !== 'assign') {
      this.#host.send({ kind: 'dataLost', keys: lost, returned: [] })
      return m
    }
    const gone = new Set(lost)
    const returned: string[] = []
    const tasks: Assign['tasks'][number][] = []
    for (const t of m.tasks) {
      if (t.deps?.some((d) => d.value === undefined && gone.has(d.key))) returned.push(t.key)
      else tasks.push(t)
    }
    this.#host.send({ kind: 'dataLost', keys: lost, returned })
    return { kind: 'assign', tasks }
  }
}

/** Held values `m` reads: an assign's inputs not sent along, or the keys of a fetch. */
function spilledInputs(m: CoordinatorToWorker): string[] {
  switch (m.kind) {
    case 'assign': {
      const keys: string[] = []
      for (const t of m.tasks)
        for (const d of t.deps ?? []) if (d.value === undefined) keys.push(d.key)
      return keys
    }
    case 'fetch':
      return [...m.keys]
    case 'welcome':
    case 'refuse':
    case 'cancel':
    case 'steal':
    case 'store':
    case 'release':
    case 'shutdown':
    case 'nested':
      return []
  }
}
