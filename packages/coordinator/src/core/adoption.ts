import type { WorkerInventory } from '@clusterpool/protocol'

import type { ScatterSpec, TaskSpec } from '../scheduler/specs.js'
import { ClientTask } from './client-task.js'
import type { CoreState } from './core-state.js'
import type { ClientSession, WorkerSession } from './sessions.js'

/** An inventory entry no client has claimed yet. */
interface Unclaimed {
  readonly workerId: string
  /** `performance.now()` when its worker re-registered. */
  readonly since: number
  /** Bytes, for a held value; undefined for a task. */
  readonly size?: number
}

/**
 * A coordinator restart, on the coordinator's side: the workers' inventories meet the clients'
 * resubmissions and claims, in whichever order they come, and bind to each other instead of
 * running anything again. Pure: events in (with the `performance.now()` time), scheduler calls
 * and worker messages out, through `CoreState`.
 *
 * - A worker re-registers with an inventory (`inventory`): each task key and held value a
 *   client already waits for (parked) is bound at once, one the coordinator knows otherwise is
 *   dropped there (it runs or lives elsewhere now), and the rest wait, unclaimed.
 * - A resuming client sends a task again (`submit`): named by an inventory, it is bound to that
 *   worker (which answers its `assign` from what it kept). While fewer workers are back than
 *   the client knew before the outage (`settled`), it is parked until an inventory names it, or
 *   enough workers are back (`joined`), or the grace period ends; else it is an ordinary submit.
 * - A resuming client claims a held value (`claim`): known from an inventory, it is in memory
 *   there again; else parked until one names it.
 * - `sweep` (every tick): an entry unclaimed for `resumeGraceMs` is dropped on its worker
 *   (`cancel`, `release`); a parked task runs anew, a parked claim is lost (`DataLostError`),
 *   once `resumeGraceMs` has passed since the coordinator started.
 *
 * A task that runs anew because its worker never came back is the at-least-once case: if that
 * worker does come back later, its inventory entry is dropped there (the task runs elsewhere).
 */
export class Adoption {
  readonly #s: CoreState
  /** `performance.now()` when this coordinator started. */
  readonly #startedAt: number
  readonly #tasks = new Map<string, Unclaimed>()
  readonly #held = new Map<string, Unclaimed>()
  /** Resubmitted tasks parked in the scheduler, waiting for an inventory. */
  readonly #parked = new Set<string>()
  /** Claimed held values parked in the scheduler, waiting for an inventory. */
  readonly #claims = new Set<string>()
  /** Scatters of resumed clients waiting for a worker to store them on: key → bytes. */
  readonly #scatters = new Map<string, number>()
  /** Clients that resumed on this coordinator. */
  readonly #resumed = new Set<string>()
  /** The most workers a resuming client knew before the outage. */
  #expected = 0

  constructor(s: CoreState, startedAt: number) {
    this.#s = s
    this.#startedAt = startedAt
  }

  /** Inventory entries nobody has claimed: tasks, held values. */
  get unclaimed(): { tasks: number; held: number } {
    return { tasks: this.#tasks.size, held: this.#held.size }
  }

  /** Keys waiting, parked, for an inventory. */
  get parked(): number {
    return this.#parked.size + this.#claims.size + this.#scatters.size
  }

  /**
   * As many workers are connected as a resuming client knew before the outage: the inventories
   * that could name its tasks are in (a fresh worker counts, standing in for one that died).
   */
  settled(): boolean {
    return this.#s.workers.size >= this.#expected
  }

  /** A client resumed, knowing `workers` workers before the outage. */
  resumed(client: ClientSession, workers: number): void {
    this.#resumed.add(client.id)
    if (workers > this.#expected) this.#expected = workers
  }

  /**
   * A client puts data on a worker. A resumed client's (a value sent again, that dependents
   * need) waits for a worker while none is connected, instead of failing with NoWorkerError.
   */
  scatter(spec: ScatterSpec, now: number): void {
    const s = this.#s
    if (s.procs > 0 || !this.#resumed.has(spec.clientId) || !this.recovering(now)) {
      s.scheduler.scatter(spec, now)
      return
    }
    s.scheduler.claimHeld(spec, now)
    this.#scatters.set(spec.key, spec.nbytes)
  }

  /** A worker joined (after its inventory, if any): once enough are back, parked tasks go. */
  joined(now: number): void {
    for (const [key, nbytes] of this.#scatters)
      if (this.#s.scheduler.storeParked(key, nbytes, now)) this.#scatters.delete(key)
    // (A client that did not say how many workers it knew waits for the grace period.)
    if (this.#parked.size === 0 || this.#expected === 0 || !this.settled()) return
    this.#release(now, 'the workers are back: tasks no inventory named run anew')
  }

  /** Whether the coordinator is still within its grace period after starting. */
  recovering(now: number): boolean {
    return now - this.#startedAt < this.#s.options.resumeGraceMs
  }

  /** Worker `worker` re-registered with what it kept. Call after it joined the scheduler. */
  inventory(worker: WorkerSession, inventory: WorkerInventory, now: number): void {
    const s = this.#s
    let bound = 0
    let dropped = 0
    for (const key of inventory.tasks) {
      if (this.#parked.has(key) && s.scheduler.adopt(key, worker.id, now)) {
        this.#parked.delete(key)
        bound++
      } else if (s.scheduler.task(key)?.workerId === worker.id) {
        bound++ // assigned here as the worker joined: it answers from what it kept
      } else if (s.tasks.has(key)) {
        worker.link.pushItem('cancel', 'keys', key) // it runs (or ran) elsewhere now
        dropped++
      } else {
        this.#tasks.set(key, { workerId: worker.id, since: now })
      }
    }
    for (const { key, size } of inventory.held) {
      if (this.#claims.has(key) && s.scheduler.adoptHeld(key, worker.id, size, now)) {
        this.#claims.delete(key)
        bound++
      } else if (this.#parked.has(key) && s.scheduler.adopt(key, worker.id, now)) {
        // A resubmitted task whose result this worker holds: it reports that result.
        this.#parked.delete(key)
        bound++
      } else if (s.tasks.has(key)) {
        // Ours already (it runs here, just bound above), or held elsewhere now.
        if (s.scheduler.task(key)?.workerId !== worker.id) {
          worker.link.pushItem('release', 'keys', key)
          dropped++
        }
      } else {
        this.#held.set(key, { workerId: worker.id, since: now, size })
      }
    }
    s.log.info(
      {
        worker: worker.id,
        name: worker.name,
        tasks: inventory.tasks.length,
        held: inventory.held.length,
        bound,
        dropped,
      },
      'worker re-registered with an inventory',
    )
  }

  /**
   * A client submits a task (the scheduler's `spec`). Returns how: bound to a worker that kept
   * it; parked until an inventory names it (a resumed client's task while not all the workers it
   * knew are back, or one it says ran before, during the grace period); or submitted as usual.
   */
  submit(spec: TaskSpec, ran: boolean, now: number): 'bound' | 'parked' | 'submitted' {
    const s = this.#s
    const key = spec.key
    const kept = this.#tasks.get(key) ?? this.#held.get(key)
    if (kept !== undefined && s.workers.has(kept.workerId)) {
      this.#tasks.delete(key)
      this.#held.delete(key)
      s.scheduler.submitParked(spec, now)
      if (s.scheduler.adopt(key, kept.workerId, now)) return 'bound'
      s.scheduler.giveUpAdoption(key, now)
      return 'submitted'
    }
    // Not all the workers the client knew are back: one of them may still have it. (A client
    // that did not say how many it knew parks only what it saw run.)
    const waits =
      this.#resumed.has(spec.clientId) && (!this.settled() || (ran && this.#expected === 0))
    if (waits && this.recovering(now)) {
      s.scheduler.submitParked(spec, now)
      if (s.scheduler.parked(key)) this.#parked.add(key)
      return 'parked'
    }
    s.scheduler.submit(spec, now)
    return 'submitted'
  }

  /** A resuming client claims its held value `id`: in memory where an inventory says, or parked. */
  claim(client: ClientSession, id: number, now: number): void {
    const s = this.#s
    const key = client.key(id)
    if (s.tasks.has(key)) return
    s.tasks.set(key, ClientTask.adopted(key, client, id))
    client.keys.add(key)
    s.scheduler.claimHeld({ key, clientId: client.id }, now)
    const kept = this.#held.get(key)
    if (kept !== undefined && s.scheduler.adoptHeld(key, kept.workerId, kept.size ?? 0, now)) {
      this.#held.delete(key)
      return
    }
    this.#claims.add(key)
  }

  /** A worker left: what only it kept is gone. */
  workerGone(workerId: string): void {
    for (const map of [this.#tasks, this.#held])
      for (const [key, e] of map) if (e.workerId === workerId) map.delete(key)
  }

  /** Drops what stayed unclaimed past the grace period, and ends the parking once it is over. */
  sweep(now: number): void {
    const s = this.#s
    const grace = s.options.resumeGraceMs
    for (const [key, e] of this.#tasks) {
      if (now - e.since < grace) continue
      this.#tasks.delete(key)
      s.workers.get(e.workerId)?.link.pushItem('cancel', 'keys', key)
    }
    for (const [key, e] of this.#held) {
      if (now - e.since < grace) continue
      this.#held.delete(key)
      s.workers.get(e.workerId)?.link.pushItem('release', 'keys', key)
    }
    if (this.recovering(now)) return
    for (const key of this.#scatters.keys()) s.scheduler.giveUpAdoption(key, now)
    this.#scatters.clear()
    if (this.#parked.size > 0) this.#release(now, 'grace period over: parked tasks run anew')
    if (this.#claims.size === 0) return
    const claims = [...this.#claims]
    this.#claims.clear()
    for (const key of claims) s.scheduler.giveUpAdoption(key, now)
    s.log.warn(
      { keys: claims.length },
      'grace period over: claimed held values nobody kept are lost',
    )
  }

  /** Parked tasks that no inventory named run as fresh submits. */
  #release(now: number, why: string): void {
    const parked = [...this.#parked]
    this.#parked.clear()
    for (const key of parked) this.#s.scheduler.giveUpAdoption(key, now)
    this.#s.log.info({ keys: parked.length }, why)
  }
}
