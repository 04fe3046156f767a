import test from 'ava'

import { InvalidOptionError } from '@clusterpool/protocol'

import {
  Scheduler,
  type AssignDecision,
  type Decision,
  type SchedulerOptions,
  type StealRequestDecision,
} from '../src/scheduler/index.js'

const assigns = (ds: readonly Decision[]): AssignDecision[] =>
  ds.filter((d): d is AssignDecision => d.type === 'assign')
const steals = (ds: readonly Decision[]): StealRequestDecision[] =>
  ds.filter((d): d is StealRequestDecision => d.type === 'steal-request')
const held = (s: Scheduler, id: string): number => {
  const w = s.worker(id)!
  return w.processing + w.queued
}

/** One worker, `n` tasks of `f`; finishes them in order with `durations` (cycled), one at a time. Returns [queued, held] after each finish. */
function drain(n: number, durations: readonly number[], options: SchedulerOptions = {}) {
  const s = new Scheduler(options)
  s.addWorker({ id: 'w', procs: 2 }, 0)
  for (let i = 0; i < n; i++) s.submit({ key: `t${i}`, fnKey: 'f', clientId: 'c' }, 0)
  const order = assigns(s.takeDecisions()).map((d) => d.key)
  const trace: [queued: number, held: number][] = []
  for (let i = 0, now = 0; i < order.length; i++) {
    now += durations[i % durations.length]!
    s.taskFinished(order[i]!, 'w', { durationMs: durations[i % durations.length]! }, now)
    order.push(...assigns(s.takeDecisions()).map((d) => d.key))
    trace.push([s.taskCounts().queued, held(s, 'w')])
  }
  return { s, order, trace }
}

test('unknown or varied durations: one task per process; each next task goes to the first process that frees, in queue order', (t) => {
  const s = new Scheduler()
  s.addWorker({ id: 'a', procs: 2 }, 0)
  s.addWorker({ id: 'b', procs: 2 }, 0)
  for (let i = 0; i < 20; i++) s.submit({ key: `t${i}`, fnKey: 'f', clientId: 'c' }, 0)
  const first = assigns(s.takeDecisions())
  t.is(first.length, 4, 'unknown function: its spread is unknown, so no prefetch')
  t.is(s.taskCounts().queued, 16)
  const on = new Map(first.map((d) => [d.key, d.workerId]))
  let now = 0
  for (const [key, ms] of [
    ['t1', 50],
    ['t0', 500],
    ['t3', 200],
  ] as const) {
    now += ms
    s.taskFinished(key, on.get(key)!, { durationMs: ms }, now)
    const next = assigns(s.takeDecisions())
    t.is(next.length, 1, `after ${key}: one freed process, one task`)
    t.is(next[0]!.workerId, on.get(key)!, 'to the worker whose process freed')
    on.set(next[0]!.key, next[0]!.workerId)
  }
  t.deepEqual([...on.keys()].slice(4), ['t4', 't5', 't6'], 'in submission order')
  t.is(held(s, 'a'), 2)
  t.is(held(s, 'b'), 2)
})

test('alike durations and a deep queue: prefetch up to ceil(procs × 1.1) + 1; it stops when the queue runs dry', (t) => {
  // Runs of 5 and 15 ms: estimate ~10 ms, spread ~5 ms. Prefetch pays while
  // queued × roundTripMs (1 ms) > spread × 2 processes.
  // (Tiny queues off: this simulation's clock, serial across the two processes, would read
  // each other's runs as round trips.)
  const { trace, order } = drain(100, [5, 15], { tinyTaskMs: 0 })
  t.is(order.length, 100)
  const deep = trace.filter(([queued]) => queued > 40)
  const shallow = trace.filter(([queued]) => queued < 5)
  t.true(deep.length > 20 && shallow.length > 0)
  t.true(
    deep.every(([, h]) => h === Math.ceil(2 * 1.1) + 1),
    `deep queue: ${JSON.stringify(deep)}`,
  )
  t.true(
    shallow.every(([, h]) => h <= 2),
    `short queue: ${JSON.stringify(shallow)}`,
  )
})

test('roundTripMs: 0 never prefetches (but tiny tasks still queue beyond their processes); Infinity always does', (t) => {
  const never = drain(60, [10], { roundTripMs: 0 })
  t.true(never.trace.every(([, h]) => h <= 2))
  const always = drain(60, [10, 500], { roundTripMs: Infinity })
  t.true(always.trace.filter(([queued]) => queued > 0).every(([, h]) => h === 4))
  const tiny = drain(300, [0.02], { roundTripMs: 0 })
  // The simulated round trip is 0: two per process hide it.
  t.true(tiny.trace.some(([, h]) => h === 4))
})

test('roundTripMs is validated', (t) => {
  t.throws(() => new Scheduler({ roundTripMs: -1 }), {
    instanceOf: InvalidOptionError,
    message: /options\.roundTripMs/,
  })
})

test('a task waiting behind a long-running one is stolen as soon as another worker idles, without waiting for a tick', (t) => {
  const s = new Scheduler({ roundTripMs: Infinity }) // always prefetch: tasks wait on workers
  s.addWorker({ id: 'a', procs: 1 }, 0)
  s.addWorker({ id: 'b', procs: 1 }, 0)
  s.submit({ key: 'warm', fnKey: 'f', clientId: 'c' }, 0)
  s.taskFinished('warm', 'a', { durationMs: 100 }, 100)
  s.takeDecisions()
  for (let i = 0; i < 6; i++) s.submit({ key: `t${i}`, fnKey: 'f', clientId: 'c' }, 100)
  t.deepEqual(
    assigns(s.takeDecisions()).map((d) => `${d.key}>${d.workerId}`),
    ['t0>a', 't1>b', 't2>a', 't3>b', 't4>a', 't5>b'],
  )
  s.taskStarted('t0', 'a', 100) // and runs long
  s.taskStarted('t1', 'b', 100)
  s.taskFinished('t1', 'b', { durationMs: 100 }, 200)
  s.taskFinished('t3', 'b', { durationMs: 100 }, 300)
  t.deepEqual(steals(s.takeDecisions()), [], 'b still has t5')
  s.taskFinished('t5', 'b', { durationMs: 100 }, 400)
  const reqs = steals(s.takeDecisions())
  t.deepEqual(
    reqs.map((r) => [r.key, r.victimId, r.thiefId]),
    [
      ['t2', 'a', 'b'],
      ['t4', 'a', 'b'],
    ],
    'b idles: it takes both of a’s waiting tasks, in the order a would have run them',
  )
  for (const r of reqs) s.stealReply(r.key, 'a', true, 401)
  t.deepEqual(
    assigns(s.takeDecisions()).map((d) => `${d.key}>${d.workerId}`),
    ['t2>b', 't4>b'],
  )
  t.is(s.task('t0')?.workerId, 'a', 'the running task stays')
})

/** `a` (2 processes) runs `running` (started) and holds `waiting` of `short` behind them; then `b` joins, idle. */
function behind(running: readonly ['long' | 'short', string][]): Decision[] {
  const s = new Scheduler({ roundTripMs: Infinity })
  s.addWorker({ id: 'a', procs: 2 }, 0)
  for (const fn of ['long', 'short']) {
    s.submit({ key: `warm-${fn}`, fnKey: fn, clientId: 'c' }, 0)
    s.taskFinished(`warm-${fn}`, 'a', { durationMs: fn === 'long' ? 1000 : 8 }, 1)
  }
  for (const [fn, key] of running) s.submit({ key, fnKey: fn, clientId: 'c' }, 2)
  s.submit({ key: 'waiting', fnKey: 'short', clientId: 'c' }, 2)
  if (held(s, 'a') !== 3) throw new Error(`a holds ${held(s, 'a')} tasks, expected 3`)
  for (const [, key] of running) s.taskStarted(key, 'a', 2)
  s.takeDecisions()
  s.addWorker({ id: 'b', procs: 1 }, 3)
  return s.takeDecisions()
}

test('the start on the victim replays its processes: a task behind one that ends within stealLatencyMs stays', (t) => {
  // a's waiting task starts when the first of its two processes frees: in ~8 ms behind a short
  // task (not worth a steal), in ~1000 ms behind two long ones. The average backlog per process
  // (~500 ms in the first case) would have stolen it.
  t.deepEqual(
    steals(
      behind([
        ['long', 'L'],
        ['short', 'S'],
      ]),
    ),
    [],
  )
  t.deepEqual(
    steals(
      behind([
        ['long', 'L1'],
        ['long', 'L2'],
      ]),
    ).map((r) => [r.key, r.thiefId]),
    [['waiting', 'b']],
  )
})
