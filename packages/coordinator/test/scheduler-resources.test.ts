import test from 'ava'

import { Scheduler, type AssignDecision } from '../src/scheduler/index.js'
import { simulate, type SimTask, type SimWorker } from '../src/scheduler/sim.js'

/** A small seeded PRNG (mulberry32): the same seed gives the same run. */
function rng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let x = a
    x = Math.imul(x ^ (x >>> 15), x | 1)
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61)
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296
  }
}

test('a worker runs a resource-bound task only where it is free', (t) => {
  const s = new Scheduler()
  s.addWorker({ id: 'w', procs: 4, resources: { GPU: 2 } }, 0)
  for (let i = 0; i < 5; i++)
    s.submit({ key: `g${i}`, fnKey: 'f', clientId: 'c', resources: { GPU: 1 } }, 0)
  s.submit({ key: 'cpu', fnKey: 'f', clientId: 'c' }, 0)
  const keys = () => s.takeDecisions().flatMap((d) => (d.type === 'assign' ? [d.key] : []))
  t.deepEqual(keys(), ['g0', 'g1', 'cpu'], 'two GPU tasks, and a plain task in a free slot')
  t.deepEqual(s.worker('w')?.usedResources, { GPU: 2 })
  s.taskFinished('g0', 'w', { durationMs: 5 }, 1)
  t.deepEqual(keys(), ['g2'])
})

/**
 * Property-style: random clusters (GPU and MEM capacities, fractional too), random task graphs
 * (resources, priorities, dependencies with data, flaky functions), workers dying and joining.
 * After every event, no worker holds tasks needing more than it has, and the scheduler's books
 * agree; at the end every task has an outcome and, once released, nothing is left.
 */
test('resources are never oversubscribed, whatever happens (random sequences)', (t) => {
  const seen = new Map<string, number>()
  for (let seed = 1; seed <= 40; seed++) {
    const r = rng(seed)
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)] as T
    const workers: SimWorker[] = []
    const nWorkers = 2 + Math.floor(r() * 4)
    for (let i = 0; i < nWorkers; i++) {
      const joinAtMs = i < 2 ? 0 : Math.floor(r() * 300)
      workers.push({
        id: `w${i}`,
        procs: 1 + Math.floor(r() * 4),
        resources: { GPU: pick([0, 1, 2, 3]), MEM: pick([0.5, 2, 4, 8]) },
        joinAtMs,
        leaveAtMs: i >= 1 && r() < 0.3 ? joinAtMs + 50 + Math.floor(r() * 300) : undefined,
      })
    }
    // Make sure the worker that never leaves can run every task: it has the most of everything.
    workers[0] = { id: 'w0', procs: 2, resources: { GPU: 3, MEM: 8 } }
    const tasks: SimTask[] = []
    const nTasks = 60 + Math.floor(r() * 140)
    for (let i = 0; i < nTasks; i++) {
      const resources: Record<string, number> = {}
      if (r() < 0.4) resources.GPU = pick([1, 2, 3])
      if (r() < 0.4) resources.MEM = pick([0.5, 1.5, 4, 8])
      const dep = i > 5 && r() < 0.3 ? tasks[Math.floor(r() * i)] : undefined
      const submitAtMs = Math.max(Math.floor(r() * 200), dep?.submitAtMs ?? 0)
      tasks.push({
        key: `t${i}`,
        fnKey: pick(['a', 'b', 'c']),
        durationMs: 1 + r() * 40,
        resources,
        priority: pick([0, 0, 0, 1, -1]),
        deps: dep === undefined ? undefined : [dep.key],
        nbytes: Math.floor(r() * 5e6),
        failTimes: r() < 0.05 ? 1 : 0,
        retries: 1,
        submitAtMs,
      })
    }
    const capacity = new Map(workers.map((w) => [w.id, w.resources ?? {}]))
    let violations = 0
    const dropped = new Set<string>() // cancelled, or released before they finished
    const result = simulate(workers, tasks, {
      tickMs: 20,
      onDecisions: (ds) => {
        for (const d of ds) {
          const kind = d.type === 'failed' ? `failed:${d.reason}` : d.type
          seen.set(kind, (seen.get(kind) ?? 0) + 1)
        }
      },
      onEvent: (sim) => {
        // The client cancels or lets go of a task now and then.
        const s = sim.scheduler
        const key = `t${Math.floor(r() * nTasks)}`
        const state = s.task(key)?.state
        const active = state === 'waiting' || state === 'queued' || state === 'processing'
        if (r() < 0.01 && active && s.cancel(key, sim.nowMs)) dropped.add(key)
        else if (r() < 0.005 && state !== undefined) {
          if (active) dropped.add(key)
          s.release(key, sim.nowMs)
        }
        for (const id of sim.workerIds()) {
          const cap = capacity.get(id) ?? {}
          for (const [name, used] of Object.entries(sim.heldResources(id))) {
            if (used > (cap[name] ?? 0) + 1e-9) violations++
          }
          const view = sim.scheduler.worker(id)
          for (const [name, used] of Object.entries(view?.usedResources ?? {})) {
            if (used > (cap[name] ?? 0) + 1e-9) violations++
          }
        }
      },
    })
    t.is(violations, 0, `seed ${seed}`)
    const missing = tasks.filter((task) => !result.outcomes.has(task.key) && !dropped.has(task.key))
    t.deepEqual(
      missing.map((task) => task.key),
      [],
      `seed ${seed}: every task has an outcome`,
    )
    const s = result.scheduler
    for (const task of tasks) s.release(task.key, 1e9)
    t.is(s.taskCounts().total, 0, `seed ${seed}: all forgotten after release`)
    for (const w of s.workers()) {
      t.is(w.dataKeys, 0, `seed ${seed}: ${w.id} holds no data`)
      t.is(w.processing + w.queued, 0)
      t.true(
        Object.values(w.usedResources).every((v) => v === 0),
        `seed ${seed}: ${w.id} has resources booked`,
      )
    }
  }
  t.log(Object.fromEntries(seen))
  const kinds = [
    'steal-request',
    'cancel-on-worker',
    'recomputing',
    'retry',
    'failed:dependency',
    'release-data',
  ]
  for (const type of kinds) {
    t.true((seen.get(type) ?? 0) > 0, `the random runs never produced ${type}`)
  }
})

test('a steal never books resources twice: the thief must have them free', (t) => {
  const s = new Scheduler({ saturationFactor: 10, roundTripMs: Infinity })
  s.addWorker({ id: 'a', procs: 1, resources: { GPU: 4 } }, 0)
  for (let i = 0; i < 4; i++)
    s.submit({ key: `g${i}`, fnKey: 'f', clientId: 'c', resources: { GPU: 1 } }, 0)
  s.takeDecisions()
  s.addWorker({ id: 'b', procs: 4, resources: { GPU: 1 } }, 10) // idle: steals at once
  s.tick(100)
  const reqs = s.takeDecisions().filter((d) => d.type === 'steal-request')
  t.is(reqs.length, 1, 'b has room for one GPU task')
  t.deepEqual(s.worker('b')?.usedResources, { GPU: 1 }, 'reserved while the steal is in flight')
  const key = reqs[0]!.type === 'steal-request' ? reqs[0]!.key : ''
  s.stealReply(key, 'a', true, 101)
  const moved = s.takeDecisions().filter((d): d is AssignDecision => d.type === 'assign')
  t.deepEqual(
    moved.map((d) => [d.key, d.workerId]),
    [[key, 'b']],
  )
  t.deepEqual(s.worker('a')?.usedResources, { GPU: 3 })
  t.deepEqual(s.worker('b')?.usedResources, { GPU: 1 })
})
