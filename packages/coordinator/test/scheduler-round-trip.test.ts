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
  s.submit({ key: 'first', fnKey: 'f', clientId: 'c' }, 0)
  t0(s)
  // Sent to a free process at 0; its result comes back after its run plus the round trip.
  s.taskFinished('first', 'w', { durationMs: estimateMs }, estimateMs + rttMs)
  for (let i = 0; i < tasks; i++) s.submit({ key: `t${i}`, fnKey: 'f', clientId: 'c' }, 100)
  s.takeDecisions()
  return s
}
const t0 = (s: Scheduler): number => assigns(s.takeDecisions()).length

test('the round trip is measured from tasks sent to a free process: result time minus run time', (t) => {
  const s = measured(1, 5, 3, 0)
  t.is(s.worker('w')!.roundTripMs, 3, 'the first sample replaces the default')
})

test('tiny tasks: each process holds 1 + ceil(round trip / estimate) tasks, at most tinyTaskDepth', (t) => {
  t.is(held(measured(2, 0.1, 1), 'w'), 2 * 11, '0.1 ms tasks, 1 ms round trip')
  t.is(held(measured(2, 0.001, 1), 'w'), 2 * 64, 'no-ops: capped by tinyTaskDepth')
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

test('tasks that waited behind others on the worker are not round-trip samples', (t) => {
  const s = new Scheduler({ workStealing: false })
  s.addWorker({ id: 'w', procs: 1 }, 0)
  s.submit({ key: 'a', fnKey: 'f', clientId: 'c' }, 0)
  s.takeDecisions()
  s.taskFinished('a', 'w', { durationMs: 1 }, 2) // a round trip of 1 ms
  for (let i = 0; i < 10; i++) s.submit({ key: `q${i}`, fnKey: 'f', clientId: 'c' }, 2)
  const queued = assigns(s.takeDecisions()).map((d) => d.key)
  t.true(queued.length > 1)
  // The second queued task waited for the first: its late result says nothing of the wire.
  s.taskFinished(queued[0]!, 'w', { durationMs: 1 }, 3.5)
  s.taskFinished(queued[1]!, 'w', { durationMs: 1 }, 50)
  t.is(s.worker('w')!.roundTripMs, 1 + 0.1 * (0.5 - 1))
})

test('a stalled worker moves the round trip at most to 100 ms per sample', (t) => {
  const s = measured(1, 1, 10_000, 0)
  t.is(s.worker('w')!.roundTripMs, 100)
})

test('long then short: a process busy with a long task queues no tiny ones; the free worker takes them', (t) => {
  const s = new Scheduler({ workStealing: false })
  s.addWorker({ id: 'a', procs: 1 }, 0)
  s.addWorker({ id: 'b', procs: 1 }, 0)
  // Teach the scheduler both functions (and a 1 ms round trip).
  s.submit({ key: 'l0', fnKey: 'long', clientId: 'c' }, 0)
  s.submit({ key: 's0', fnKey: 'short', clientId: 'c' }, 0)
  const first = new Map(assigns(s.takeDecisions()).map((d) => [d.key, d.workerId]))
  s.taskFinished('l0', first.get('l0')!, { durationMs: 600 }, 601)
  s.taskFinished('s0', first.get('s0')!, { durationMs: 0.05 }, 601)
  s.takeDecisions()
  s.submit({ key: 'l1', fnKey: 'long', clientId: 'c', priority: 1 }, 602)
  for (let i = 1; i <= 200; i++) s.submit({ key: `s${i}`, fnKey: 'short', clientId: 'c' }, 602)
  const on = assigns(s.takeDecisions())
  const longOn = on.find((d) => d.key === 'l1')!.workerId
  const shortsThere = on.filter((d) => d.key.startsWith('s') && d.workerId === longOn)
  t.is(shortsThere.length, 0, `no short task waits behind the long one on ${longOn}`)
  t.true(on.filter((d) => d.key.startsWith('s')).length > 2, 'the other worker queues them deep')
})

test('a run overdue by two round trips counts as long, even of a function that looks tiny', (t) => {
  const s = new Scheduler({ workStealing: false })
  s.addWorker({ id: 'a', procs: 1 }, 0)
  s.submit({ key: 'm0', fnKey: 'mixed', clientId: 'c' }, 0)
  s.takeDecisions()
  s.taskFinished('m0', 'a', { durationMs: 0.05 }, 1.05) // tiny, 1 ms round trip
  s.submit({ key: 'slow', fnKey: 'mixed', clientId: 'c' }, 2)
  t.deepEqual(
    assigns(s.takeDecisions()).map((d) => d.key),
    ['slow'],
  )
  // 500 ms later it still runs: no tiny task is queued behind it; a new worker takes them all.
  for (let i = 0; i < 50; i++) s.submit({ key: `m${i + 1}`, fnKey: 'mixed', clientId: 'c' }, 500)
  t.is(assigns(s.takeDecisions()).length, 0, 'none queued behind the overdue run')
  s.addWorker({ id: 'b', procs: 1 }, 501)
  const next = assigns(s.takeDecisions())
  t.true(next.length > 2 && next.every((d) => d.workerId === 'b'))
})
