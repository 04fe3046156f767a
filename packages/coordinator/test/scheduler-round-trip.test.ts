import test from 'ava'

import { Scheduler, type AssignDecision, type Decision } from '../src/scheduler/index.js'

const assigns = (ds: readonly Decision[]): AssignDecision[] =>
  ds.filter((d): d is AssignDecision => d.type === 'assign')
const held = (s: Scheduler, id: string): number => {
  const w = s.worker(id)!
  return w.processing + w.queued
}

/** A scheduler with one worker of `procs` whose function `f` is known to take `estimateMs`, and `rttMs` measured. */
function measured(procs: number, estimateMs: number, rttMs: number, tasks = 1000) {
  const s = new Scheduler({ workStealing: false })
  s.addWorker({ id: 'w', procs }, 0)
  warm(s, 'w', 'f', estimateMs, rttMs)
  for (let i = 0; i < tasks; i++) s.submit({ key: `t${i}`, fnKey: 'f', clientId: 'c' }, 1000)
  s.takeDecisions()
  return s
}

/**
 * Three tasks of `fnKey` on worker `id`, one at a time, each sent to a free process and back
 * after its run plus `rttMs`: the first two are the worker's warm-up (not samples), the third
 * is its first round-trip sample.
 */
function warm(
  s: Scheduler,
  id: string,
  fnKey: string,
  runMs: number,
  rttMs: number,
  from = 0,
): number {
  let now = from
  for (let i = 0; i < 3; i++) {
    const key = `warm-${id}-${i}`
    s.submit({ key, fnKey, clientId: 'c', workers: [id] }, now)
    s.takeDecisions()
    now += runMs + rttMs
    s.taskFinished(key, id, { durationMs: runMs }, now)
  }
  return now
}

test('the round trip is measured from tasks sent to a free process: result time minus run time', (t) => {
  const s = measured(1, 5, 3, 0)
  t.is(s.worker('w')!.roundTripMs, 3, 'the first sample replaces the default')
})

test('tiny tasks: each process holds 1 + ceil(round trip / estimate) tasks, at most tinyTaskDepth', (t) => {
  t.is(held(measured(2, 0.1, 1), 'w'), 2 * 11, '0.1 ms tasks, 1 ms round trip')
  t.is(held(measured(2, 0.001, 1), 'w'), 2 * 256, 'no-ops: capped by tinyTaskDepth')
  t.is(
    held(measured(1, 0.5, 0.2), 'w'),
    2,
    'at least two per process (one running, the next there)',
  )
})

test('a function faster than the measured round trip is tiny even above tinyTaskMs', (t) => {
  // A loaded machine: 2 ms tasks, 3 ms round trip. The cap hides it with 1 + ceil(3 / 2) = 3.
  t.is(held(measured(1, 2, 3), 'w'), 3)
  // The same tasks with a 0.5 ms round trip are not tiny: the prefetch cap, ceil(1.1) + 1.
  t.is(held(measured(1, 2, 0.5), 'w'), 3)
  t.is(held(measured(4, 2, 0.5), 'w'), Math.ceil(4 * 1.1) + 1)
})

test('tasks that waited behind others on the worker, and the first results of a worker, are not round-trip samples', (t) => {
  const s = new Scheduler({ workStealing: false })
  s.addWorker({ id: 'w', procs: 1 }, 0)
  for (let i = 0; i < 2; i++) {
    s.submit({ key: `start${i}`, fnKey: 'f', clientId: 'c' }, 0)
    s.takeDecisions()
    s.taskFinished(`start${i}`, 'w', { durationMs: 1 }, 500) // process start-up: not a sample
  }
  t.is(s.worker('w')!.roundTripMs, 1, 'still the default')
  for (let i = 0; i < 10; i++) s.submit({ key: `q${i}`, fnKey: 'f', clientId: 'c' }, 500)
  const queued = assigns(s.takeDecisions()).map((d) => d.key)
  t.true(queued.length > 1)
  s.taskFinished(queued[0]!, 'w', { durationMs: 1 }, 501.5) // sent to a free process: 0.5 ms
  t.is(s.worker('w')!.roundTripMs, 0.5)
  // The second queued task waited for the first: its late result says nothing of the wire.
  s.taskFinished(queued[1]!, 'w', { durationMs: 1 }, 550)
  t.is(s.worker('w')!.roundTripMs, 0.5)
})

test('a stalled worker moves the round trip at most to 100 ms per sample', (t) => {
  const s = measured(1, 1, 10_000, 0)
  t.is(s.worker('w')!.roundTripMs, 100)
})

test('long then short: a process busy with a long task queues no tiny ones; the free worker takes them', (t) => {
  const s = new Scheduler({ workStealing: false })
  s.addWorker({ id: 'a', procs: 1 }, 0)
  s.addWorker({ id: 'b', procs: 1 }, 0)
  // Teach the scheduler both functions, and a 1 ms round trip to each worker.
  warm(s, 'b', 'short', 0.05, 1, warm(s, 'a', 'long', 600, 1))
  s.submit({ key: 'l1', fnKey: 'long', clientId: 'c', priority: 1 }, 2000)
  for (let i = 1; i <= 200; i++) s.submit({ key: `s${i}`, fnKey: 'short', clientId: 'c' }, 2000)
  const on = assigns(s.takeDecisions())
  const longOn = on.find((d) => d.key === 'l1')!.workerId
  const shortsThere = on.filter((d) => d.key.startsWith('s') && d.workerId === longOn)
  t.is(shortsThere.length, 0, `no short task waits behind the long one on ${longOn}`)
  t.true(on.filter((d) => d.key.startsWith('s')).length > 2, 'the other worker queues them deep')
})

test('a run overdue by two round trips counts as long, even of a function that looks tiny', (t) => {
  const s = new Scheduler({ workStealing: false })
  s.addWorker({ id: 'a', procs: 1 }, 0)
  warm(s, 'a', 'mixed', 0.05, 1) // tiny, 1 ms round trip
  s.submit({ key: 'slow', fnKey: 'mixed', clientId: 'c' }, 10)
  t.deepEqual(
    assigns(s.takeDecisions()).map((d) => d.key),
    ['slow'],
  )
  // 500 ms later it still runs: no tiny task is queued behind it; a new worker takes them all.
  for (let i = 0; i < 50; i++) s.submit({ key: `m${i}`, fnKey: 'mixed', clientId: 'c' }, 500)
  t.is(assigns(s.takeDecisions()).length, 0, 'none queued behind the overdue run')
  s.addWorker({ id: 'b', procs: 1 }, 501)
  const next = assigns(s.takeDecisions())
  t.true(next.length > 2 && next.every((d) => d.workerId === 'b'))
})

/** `n` more tasks of `fnKey` on worker `id`, one at a time, each running 1 ms and back `rttMs` after. */
function samples(s: Scheduler, id: string, fnKey: string, n: number, rttMs: number, from: number) {
  let now = from
  for (let i = 0; i < n; i++) {
    const key = `sample-${id}-${now}-${i}`
    s.submit({ key, fnKey, clientId: 'c', workers: [id] }, now)
    s.takeDecisions()
    now += 1 + rttMs
    s.taskFinished(key, id, { durationMs: 1 }, now)
  }
  return now
}

test('a burst of slow round trips (the coordinator busy with a big frame) leaves the estimate alone', (t) => {
  const s = new Scheduler({ workStealing: false })
  s.addWorker({ id: 'w', procs: 1 }, 0)
  let now = samples(s, 'w', 'f', 15, 0.5, warm(s, 'w', 'f', 1, 0.5))
  t.is(s.worker('w')!.roundTripMs, 0.5)
  now = samples(s, 'w', 'f', 7, 20, now)
  t.is(s.worker('w')!.roundTripMs, 0.5, 'seven slow samples of fifteen move nothing')
  // A lasting change shows within half the window.
  samples(s, 'w', 'f', 8, 2, now)
  t.is(s.worker('w')!.roundTripMs, 2)
})

test('the first task of a burst to a worker is no sample: it comes back only after the worker took in the burst', (t) => {
  const s = new Scheduler({ workStealing: false })
  s.addWorker({ id: 'w', procs: 1 }, 0)
  let now = samples(s, 'w', 'f', 3, 0.5, warm(s, 'w', 'f', 1, 0.5))
  t.is(s.worker('w')!.roundTripMs, 0.5)
  // Fifteen bursts of five, each to an idle worker; the first of each comes back 30 ms later.
  for (let b = 0; b < 15; b++) {
    const keys = Array.from({ length: 5 }, (_, i) => `b${b}-${i}`)
    s.batch(() => {
      for (const key of keys) s.submit({ key, fnKey: 'f', clientId: 'c' }, now)
    })
    t.true(s.takeDecisions().filter((d) => d.type === 'assign').length > 1, 'a burst went out')
    for (const key of keys) {
      now += key.endsWith('-0') ? 31 : 1
      s.taskFinished(key, 'w', { durationMs: 1 }, now)
      s.takeDecisions()
    }
  }
  t.is(s.worker('w')!.roundTripMs, 0.5)
})
