import test from 'ava'

import { Scheduler } from '../src/scheduler/index.js'

const estimate = (s: Scheduler, fnKey: string): number | undefined =>
  s.estimates().find((e) => e.fnKey === fnKey)?.estimateMs

const spread = (s: Scheduler, fnKey: string): number | undefined =>
  s.estimates().find((e) => e.fnKey === fnKey)?.spreadMs

test('estimates: unknown functions use defaultDurationMs; the first run replaces it, then 0.5·new + 0.5·old', (t) => {
  const s = new Scheduler()
  s.addWorker({ id: 'w', procs: 1 }, 0)
  s.submit({ key: 'a', fnKey: 'f', clientId: 'c' }, 0)
  t.deepEqual(s.estimates(), [{ fnKey: 'f', estimateMs: 500, observed: 0, spreadMs: 500 }])
  s.taskFinished('a', 'w', { durationMs: 100 }, 100)
  t.is(estimate(s, 'f'), 100)
  t.is(spread(s, 'f'), 100, 'one run says nothing about the next: the spread is its duration')
  s.submit({ key: 'b', fnKey: 'f', clientId: 'c' }, 100)
  s.taskFinished('b', 'w', { durationMs: 300 }, 400)
  t.is(estimate(s, 'f'), 200)
  t.is(spread(s, 'f'), 0.5 * (300 - 100) + 0.5 * 100)
  s.submit({ key: 'c', fnKey: 'f', clientId: 'c' }, 400)
  s.taskFinished('c', 'w', { durationMs: 100 }, 500)
  t.is(estimate(s, 'f'), 150)
  t.is(spread(s, 'f'), 0.5 * (200 - 100) + 0.5 * 150)
  t.is(new Scheduler({ defaultDurationMs: 20 }).estimates().length, 0)
  const custom = new Scheduler({ defaultDurationMs: 20 })
  custom.submit({ key: 'x', fnKey: 'g', clientId: 'c' }, 0)
  t.is(estimate(custom, 'g'), 20)
})

test('a task running past its estimate raises it, and counts as max(estimate, 2 × elapsed) for occupancy', (t) => {
  const s = new Scheduler()
  s.addWorker({ id: 'w', procs: 1 }, 0)
  s.submit({ key: 'a', fnKey: 'f', clientId: 'c' }, 0)
  s.taskFinished('a', 'w', { durationMs: 100 }, 100)
  s.submit({ key: 'b', fnKey: 'f', clientId: 'c' }, 1000)
  s.takeDecisions()
  s.taskStarted('b', 'w', 1000)
  s.tick(1040)
  t.is(estimate(s, 'f'), 100, 'within its estimate: unchanged')
  t.is(s.worker('w')?.occupancyMs, 60, 'remaining: 100 − 40')
  s.tick(1350)
  t.is(estimate(s, 'f'), 350, 'raised to the elapsed time')
  t.is(s.worker('w')?.occupancyMs, 350, 'total 2 × 350, of which 350 remain')
  s.tick(3000)
  t.is(estimate(s, 'f'), 2000)
  t.is(s.worker('w')?.occupancyMs, 2000)
  s.taskFinished('b', 'w', { durationMs: 2500 }, 3500)
  t.is(estimate(s, 'f'), 0.5 * 2500 + 0.5 * 2000)
})

test('runs that all take the same time drive the spread towards 0', (t) => {
  const s = new Scheduler()
  s.addWorker({ id: 'w', procs: 1 }, 0)
  for (let i = 0; i < 10; i++) {
    s.submit({ key: `k${i}`, fnKey: 'f', clientId: 'c' }, i * 10)
    s.taskFinished(`k${i}`, 'w', { durationMs: 10 }, i * 10 + 10)
  }
  t.is(estimate(s, 'f'), 10)
  t.is(spread(s, 'f'), 10 / 2 ** 9)
})

test('occupancy of waiting tasks follows the current estimate', (t) => {
  const s = new Scheduler({ saturationFactor: 3, roundTripMs: Infinity })
  s.addWorker({ id: 'w', procs: 1 }, 0)
  for (const key of ['a', 'b', 'c']) s.submit({ key, fnKey: 'f', clientId: 'c' }, 0)
  s.tick(0)
  t.is(s.worker('w')?.occupancyMs, 3 * 500)
  s.taskFinished('a', 'w', { durationMs: 10 }, 10)
  s.tick(10)
  t.is(s.worker('w')?.occupancyMs, 2 * 10, 'b just started, c waits: both at the new estimate')
})
