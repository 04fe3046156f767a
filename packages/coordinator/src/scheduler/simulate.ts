import type {
  AssignDecision,
  CancelOnWorkerDecision,
  ReleaseDataDecision,
  StealRequestDecision,
  StoreDecision,
} from './decisions.js'
import { BinaryHeap } from './heap.js'
import { Scheduler } from './scheduler.js'
import type { SimInspector, SimOptions, SimResult, SimTask, SimWorker } from './sim-types.js'

/**
 * A discrete-event simulation of a cluster driven by the real scheduler: workers with process
 * slots and speeds run what they are assigned (FIFO, fetching missing inputs first), messages
 * take `latencyMs` each way, the coordinator ticks every `tickMs`. Used by the tests to check
 * makespans against a lower bound, and by the benchmark. Deterministic: same input, same run.
 *
 * Not modelled: coordinator CPU time, failed fetches from dead workers (a fetch always works).
 */

/** The decisions that become messages to a worker. */
type ToWorker =
  | AssignDecision
  | StoreDecision
  | CancelOnWorkerDecision
  | StealRequestDecision
  | ReleaseDataDecision

type Event =
  | { kind: 'join' | 'leave'; w: SimW }
  | { kind: 'submit'; tasks: SimTask[] }
  | { kind: 'tick' }
  | { kind: 'to-worker'; w: SimW; d: ToWorker }
  | { kind: 'done'; w: SimW; key: string; run: Run }
  | { kind: 'started' | 'dropped'; w: SimW; key: string }
  | { kind: 'finished'; w: SimW; key: string; durationMs: number; ok: boolean }
  | { kind: 'steal-reply'; w: SimW; key: string; ok: boolean }

interface Timed {
  at: number
  seq: number
  e: Event
}

interface Queued {
  key: string
  attempt: number
  deps: readonly { key: string; nbytes: number }[]
}

interface Run {
  readonly key: string
  readonly computeMs: number
  readonly totalMs: number
  readonly ok: boolean
}

interface SimW {
  readonly spec: SimWorker
  alive: boolean
  readonly queue: Queued[]
  readonly running: Map<string, Run>
  readonly data: Set<string>
  busyMs: number
  tasksRun: number
}

export function simulate(
  workers: readonly SimWorker[],
  tasks: readonly SimTask[],
  options: SimOptions = {},
): SimResult {
  const latency = options.latencyMs ?? 0.05
  const tickMs = options.tickMs ?? 100
  const reportStarts = options.reportStarts ?? true
  const bytesPerMs = (options.bandwidthBytesPerSecond ?? 100e6) / 1000
  const maxTime = options.maxTimeMs ?? 1e9
  const s = new Scheduler(options.scheduler)
  const byKey = new Map(tasks.map((t) => [t.key, t]))
  const sims = new Map<string, SimW>()
  const events = new BinaryHeap<Timed>((a, b) => a.at < b.at || (a.at === b.at && a.seq < b.seq))
  let seq = 0
  let now = 0
  const at = (time: number, e: Event): void => events.push({ at: time, seq: seq++, e })

  const outcome = new Map<string, 'memory' | 'erred' | 'failed'>()
  let makespan = 0
  let submitted = 0
  let decisionCount = 0
  let eventCount = 0
  const steals = { requested: 0, ok: 0 }

  for (const spec of workers) {
    const w: SimW = {
      spec,
      alive: false,
      queue: [],
      running: new Map(),
      data: new Set(),
      busyMs: 0,
      tasksRun: 0,
    }
    sims.set(spec.id, w)
    at(spec.joinAtMs ?? 0, { kind: 'join', w })
    if (spec.leaveAtMs !== undefined) at(spec.leaveAtMs, { kind: 'leave', w })
  }
  const bySubmit = new Map<number, SimTask[]>()
  for (const t of tasks) {
    const time = t.submitAtMs ?? 0
    const list = bySubmit.get(time) ?? []
    list.push(t)
    bySubmit.set(time, list)
  }
  for (const [time, list] of bySubmit) at(time, { kind: 'submit', tasks: list })
  at(tickMs, { kind: 'tick' })

  const drain = (): void => {
    const ds = s.takeDecisions()
    if (ds.length === 0) return
    decisionCount += ds.length
    options.onDecisions?.(ds, now)
    for (const d of ds) {
      switch (d.type) {
        case 'assign':
        case 'store':
        case 'cancel-on-worker':
        case 'release-data': {
          const ids = d.type === 'release-data' ? d.workerIds : [d.workerId]
          for (const id of ids) {
            const w = sims.get(id)
            if (w !== undefined) at(now + latency, { kind: 'to-worker', w, d })
          }
          break
        }
        case 'steal-request': {
          steals.requested++
          const w = sims.get(d.victimId)
          if (w !== undefined) at(now + latency, { kind: 'to-worker', w, d })
          break
        }
        case 'memory':
        case 'erred':
        case 'failed':
          outcome.set(d.key, d.type)
          makespan = now
          break
        case 'recomputing':
          outcome.delete(d.key)
          break
        case 'retry':
        case 'forgotten':
          break
      }
    }
  }

  const startMore = (w: SimW): void => {
    while (w.alive && w.running.size < w.spec.procs && w.queue.length > 0) {
      const q = w.queue.shift() as Queued
      const task = byKey.get(q.key)
      if (task === undefined) continue
      let fetchBytes = 0
      for (const dep of q.deps) if (!w.data.has(dep.key)) fetchBytes += dep.nbytes
      const computeMs = task.durationMs / (w.spec.speed ?? 1)
      const run: Run = {
        key: q.key,
        computeMs,
        totalMs: fetchBytes / bytesPerMs + computeMs,
        ok: q.attempt > (task.failTimes ?? 0),
      }
      w.running.set(q.key, run)
      if (reportStarts) at(now + latency, { kind: 'started', w, key: q.key })
      at(now + run.totalMs, { kind: 'done', w, key: q.key, run })
    }
  }

  const atWorker = (w: SimW, d: ToWorker): void => {
    switch (d.type) {
      case 'assign':
        w.queue.push({ key: d.key, attempt: d.attempt, deps: d.deps })
        startMore(w)
        break
      case 'cancel-on-worker': {
        const i = w.queue.findIndex((q) => q.key === d.key)
        if (i >= 0) {
          w.queue.splice(i, 1)
          at(now + latency, { kind: 'dropped', w, key: d.key })
        }
        break
      }
      case 'steal-request': {
        const i = w.queue.findIndex((q) => q.key === d.key)
        if (i >= 0) w.queue.splice(i, 1)
        at(now + latency, { kind: 'steal-reply', w, key: d.key, ok: i >= 0 })
        break
      }
      case 'store':
        w.data.add(d.key) // scattered data: the value arrives with the message
        break
      case 'release-data':
        w.data.delete(d.key)
        break
    }
  }

  const inspector: SimInspector = {
    get nowMs() {
      return now
    },
    scheduler: s,
    workerIds: () => [...sims.values()].filter((w) => w.alive).map((w) => w.spec.id),
    heldKeys: (id) => {
      const w = sims.get(id)
      return w === undefined ? [] : [...w.queue.map((q) => q.key), ...w.running.keys()]
    },
    runningKeys: (id) => [...(sims.get(id)?.running.keys() ?? [])],
    heldResources: (id) => {
      const out: Record<string, number> = {}
      for (const key of inspector.heldKeys(id)) {
        for (const [name, amount] of Object.entries(byKey.get(key)?.resources ?? {})) {
          out[name] = (out[name] ?? 0) + amount
        }
      }
      return out
    },
  }

  for (let ev = events.pop(); ev !== undefined && ev.at <= maxTime; ev = events.pop()) {
    now = ev.at
    eventCount++
    const e = ev.e
    switch (e.kind) {
      case 'join':
        e.w.alive = true
        s.addWorker(
          {
            id: e.w.spec.id,
            name: e.w.spec.name,
            host: e.w.spec.host,
            procs: e.w.spec.procs,
            resources: e.w.spec.resources,
          },
          now,
        )
        break
      case 'leave':
        e.w.alive = false
        e.w.queue.length = 0
        e.w.running.clear()
        e.w.data.clear()
        s.removeWorker(e.w.spec.id, now)
        break
      case 'submit':
        submitted += e.tasks.length
        for (const t of e.tasks) {
          s.submit(
            {
              key: t.key,
              fnKey: t.fnKey ?? 'fn',
              clientId: 'sim',
              priority: t.priority,
              resources: t.resources,
              workers: t.workers,
              allowOtherWorkers: t.allowOtherWorkers,
              retries: t.retries,
              deps: t.deps,
            },
            now,
          )
        }
        break
      case 'tick': {
        s.tick(now)
        const c = s.taskCounts()
        const active = c.waiting + c.queued + c.processing > 0
        if (outcome.size < tasks.length && (active || submitted < tasks.length)) {
          at(now + tickMs, { kind: 'tick' })
        }
        break
      }
      case 'to-worker':
        if (e.w.alive) atWorker(e.w, e.d)
        break
      case 'done': {
        const w = e.w
        if (!w.alive || w.running.get(e.key) !== e.run) break
        w.running.delete(e.key)
        w.busyMs += e.run.totalMs
        w.tasksRun++
        if (e.run.ok) w.data.add(e.key)
        at(now + latency, {
          kind: 'finished',
          w,
          key: e.key,
          durationMs: e.run.computeMs,
          ok: e.run.ok,
        })
        startMore(w)
        break
      }
      case 'started':
        s.taskStarted(e.key, e.w.spec.id, now)
        break
      case 'dropped':
        s.taskDropped(e.key, e.w.spec.id, now)
        break
      case 'finished':
        if (e.ok)
          s.taskFinished(
            e.key,
            e.w.spec.id,
            { durationMs: e.durationMs, nbytes: byKey.get(e.key)?.nbytes ?? 0 },
            now,
          )
        else s.taskErred(e.key, e.w.spec.id, { durationMs: e.durationMs }, now)
        break
      case 'steal-reply':
        if (e.ok) steals.ok++
        s.stealReply(e.key, e.w.spec.id, e.ok, now)
        break
    }
    drain()
    options.onEvent?.(inspector)
  }

  let finished = 0
  let erred = 0
  let failed = 0
  for (const o of outcome.values()) {
    if (o === 'memory') finished++
    else if (o === 'erred') erred++
    else failed++
  }
  return {
    makespanMs: makespan,
    finished,
    erred,
    failed,
    complete: outcome.size === tasks.length,
    outcomes: outcome,
    steals,
    workers: [...sims.values()].map((w) => ({
      id: w.spec.id,
      tasksRun: w.tasksRun,
      busyMs: w.busyMs,
    })),
    decisions: decisionCount,
    events: eventCount,
    scheduler: s,
  }
}
