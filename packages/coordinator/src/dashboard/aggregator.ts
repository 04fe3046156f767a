import type { SerializedError } from '@clusterpool/protocol'

import type { TaskEndEvent } from '../core/events.js'
import type { FunctionProgress } from '../core/progress.js'
import { clip, type ClusterStatus } from '../core/status.js'
import type { ResolvedDashboardOptions } from './options.js'
import { Reservoir, Ring } from './ring.js'
import type {
  DashBar,
  DashError,
  DashFunction,
  DashPoint,
  DashStream,
  DashWorker,
  DashboardHello,
  DashboardUpdate,
} from './snapshot.js'

/** What the aggregator reads from the coordinator when it builds an update. */
export interface AggregatorSource {
  status(): ClusterStatus
  readonly progress: ReadonlyMap<string, FunctionProgress>
}

/**
 * Turns the coordinator's state and its stream of task ends into bounded dashboard updates.
 *
 * Per task end: O(1) (a reservoir offer, and a ring push for errors). Per update:
 * O(workers + functions + streamCap + errorsKept), however many tasks ran, and bounded however
 * many workers and functions there are: the workers are the status's `STATUS_TOP_N` most active,
 * the functions the `functionsShown` busiest, and every label is cut to `STATUS_TEXT_CHARS`.
 */
export class Aggregator {
  readonly #options: ResolvedDashboardOptions
  readonly #source: AggregatorSource
  readonly #now: () => number
  readonly #bars: Reservoir<TaskEndEvent>
  readonly #history: Ring<DashPoint>
  readonly #errors: Ring<DashError>
  /** Errors not yet sent in an update (the newest `errorsKept`). */
  #fresh: DashError[] = []
  #errorSeq = 0
  #points: DashPoint[] = []
  #changed = true
  #lastSampleMs = 0
  /** Tasks ended (finished + erred) at the last sample, for throughput; undefined after a gap. */
  #lastEnded: number | undefined

  constructor(
    source: AggregatorSource,
    options: ResolvedDashboardOptions,
    now: () => number = Date.now,
  ) {
    this.#source = source
    this.#options = options
    this.#now = now
    this.#bars = new Reservoir(options.streamCap)
    this.#history = new Ring(options.historyPoints)
    this.#errors = new Ring(options.errorsKept)
  }

  /** Something changed in the coordinator: the next tick sends an update. O(1). */
  changed(): void {
    this.#changed = true
  }

  /** A task ended on a worker. O(1). */
  taskEnded(event: TaskEndEvent): void {
    this.#bars.offer(event)
    this.#changed = true
    if (event.ok) return
    const error = this.#toError(event)
    this.#errors.push(error)
    this.#fresh.push(error)
    if (this.#fresh.length > 2 * this.#options.errorsKept)
      this.#fresh = this.#fresh.slice(-this.#options.errorsKept)
  }

  /**
   * Starts watching again after nobody was: marks a gap in the charts, and forgets the bars and
   * errors gathered before (they were not collected while idle anyway).
   */
  resume(): void {
    const now = this.#now()
    if (this.#history.size > 0)
      this.#history.push({
        t: now,
        throughput: null,
        queued: null,
        running: null,
        occupancyMs: null,
      })
    this.#lastEnded = undefined
    this.#lastSampleMs = 0
    this.#points = []
    this.#bars.drain()
    this.#fresh = []
    this.#changed = true
  }

  /**
   * The periodic step: samples a chart point when one is due, and returns the update to
   * broadcast, or undefined when nothing happened since the last one.
   */
  tick(): DashboardUpdate | undefined {
    const now = this.#now()
    let status: ClusterStatus | undefined
    if (now - this.#lastSampleMs >= this.#options.sampleIntervalMs) {
      status = this.#source.status()
      this.#sample(status, now)
    }
    if (!this.#changed && this.#points.length === 0) return undefined
    status ??= this.#source.status()
    const drained = this.#bars.drain()
    const fresh = this.#fresh.slice(-this.#options.errorsKept)
    this.#fresh = []
    const update = this.#update(status, now, this.#stream(drained.items, drained.seen, now), fresh)
    this.#points = []
    this.#changed = false
    return update
  }

  /** What a browser that just connected needs: the state, the chart history, recent errors. */
  hello(): DashboardHello {
    const now = this.#now()
    const status = this.#source.status()
    return {
      update: this.#update(status, now, { fns: [], bars: [], seen: 0 }, []),
      history: this.#history.toArray(),
      errors: this.#errors.toArray(),
      config: {
        updateIntervalMs: this.#options.updateIntervalMs,
        sampleIntervalMs: this.#options.sampleIntervalMs,
        streamCap: this.#options.streamCap,
      },
    }
  }

  #sample(status: ClusterStatus, now: number): void {
    const ended = status.totals.finished + status.totals.erred
    let queued = status.tasks.queued
    let running = 0
    let occupancy = 0
    let counted = 0
    for (const w of status.workers) {
      queued += w.queued
      running += w.running
      if (w.state !== 'running') continue
      occupancy += w.occupancyMs
      counted++
    }
    const throughput =
      this.#lastEnded === undefined || this.#lastSampleMs === 0
        ? null
        : Math.max(0, ((ended - this.#lastEnded) * 1000) / (now - this.#lastSampleMs))
    const point: DashPoint = {
      t: now,
      throughput: throughput === null ? null : round(throughput, 2),
      queued,
      running,
      occupancyMs: counted === 0 ? 0 : Math.round(occupancy / counted),
    }
    this.#lastEnded = ended
    this.#lastSampleMs = now
    // The first sample (after a start or a gap) only sets the throughput's baseline.
    if (throughput === null) return
    this.#history.push(point)
    this.#points.push(point)
  }

  #update(
    status: ClusterStatus,
    now: number,
    stream: DashStream,
    fresh: DashError[],
  ): DashboardUpdate {
    const names = new Map<string, string>()
    const workers: DashWorker[] = status.workers.map((w) => {
      names.set(w.id, w.name)
      return {
        id: w.id,
        name: w.name,
        host: w.host,
        procs: w.procs,
        state: w.state,
        running: w.running,
        queued: w.queued,
        done: w.done,
        failed: w.failed,
        cpu: round(w.cpu, 2),
        memoryRss: w.memoryRss,
        memoryBytes: w.memoryBytes,
        heldBytes: w.heldBytes,
        memory:
          w.memory === null
            ? null
            : {
                managed: w.memory.managedBytes,
                unmanaged: w.memory.unmanagedBytes,
                spilled: w.memory.spilledBytes,
                limit: w.memory.limitBytes,
                state: w.memory.state,
                paused: w.memory.paused,
              },
        lastHeartbeatMsAgo: w.lastHeartbeatMsAgo,
        occupancyMs: Math.round(w.occupancyMs),
      }
    })
    for (const e of fresh) e.worker = names.get(e.workerId) ?? e.worker
    const t = status.tasks
    return {
      t: now,
      coordinator: {
        version: status.coordinator.version,
        uptimeSeconds: status.coordinator.uptimeSeconds,
        clients: status.coordinator.clients,
      },
      totals: { ...status.totals },
      tasks: {
        waiting: t.waiting,
        queued: t.queued,
        processing: t.processing,
        memory: t.memory,
        erred: t.erred,
        noWorker: t.noWorker,
      },
      tasksPerSecond: round(status.tasksPerSecond, 2),
      workers,
      functions: this.#functions(),
      workersTotal: status.workersTotal,
      functionsTotal: this.#source.progress.size,
      stream,
      points: this.#points,
      errors: fresh,
      errorsTotal: this.#errorSeq,
    }
  }

  /** The progress rows: all of them in first-seen order, or the busiest `functionsShown`. */
  #functions(): DashFunction[] {
    const rows: DashFunction[] = []
    for (const [fn, p] of this.#source.progress)
      rows.push({
        fn: clip(fn),
        pending: p.pending,
        running: p.running,
        done: p.done,
        erred: p.erred,
      })
    if (rows.length <= this.#options.functionsShown) return rows
    const active = (r: DashFunction): number => r.pending + r.running
    const total = (r: DashFunction): number => active(r) + r.done + r.erred
    return rows
      .map((r, i) => ({ r, i }))
      .sort(
        (a, b) =>
          Number(active(b.r) > 0) - Number(active(a.r) > 0) || total(b.r) - total(a.r) || a.i - b.i,
      )
      .slice(0, this.#options.functionsShown)
      .sort((a, b) => a.i - b.i)
      .map((x) => x.r)
  }

  #stream(events: readonly TaskEndEvent[], seen: number, now: number): DashStream {
    const fns: string[] = []
    const index = new Map<string, number>()
    const bars: DashBar[] = []
    for (const e of events) {
      let fi = index.get(e.fn)
      if (fi === undefined) {
        fi = fns.length
        fns.push(clip(e.fn))
        index.set(e.fn, fi)
      }
      bars.push([fi, e.workerId, e.startMs - now, e.endMs - now, e.ok ? 1 : 0])
    }
    bars.sort((a, b) => a[2] - b[2])
    return { fns, bars, seen }
  }

  #toError(event: TaskEndEvent): DashError {
    const e: SerializedError = event.error ?? { name: 'Error', message: 'the task failed' }
    const max = this.#options.maxStackChars
    let stack = e.stack ?? ''
    for (let cause = e.cause, depth = 0; cause && depth < 5; cause = cause.cause, depth++)
      stack += `\ncaused by: ${cause.stack ?? `${cause.name}: ${cause.message}`}`
    return {
      seq: ++this.#errorSeq,
      atMs: event.endMs,
      fn: clip(event.fn),
      workerId: event.workerId,
      worker: event.workerId,
      name: cut(String(e.name), 200),
      message: cut(String(e.message), Math.ceil(max / 4)),
      ...(e.code === undefined ? {} : { code: cut(String(e.code), 200) }),
      ...(stack === '' ? {} : { stack: cut(stack, max) }),
    }
  }
}

function round(x: number, digits: number): number {
  const f = 10 ** digits
  return Math.round(x * f) / f
}

function cut(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max - 1)}…`
}
