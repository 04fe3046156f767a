import test from 'ava'

import { Scheduler, type Decision, type StealRequestDecision } from '../src/scheduler/index.js'

const steals = (ds: readonly Decision[]): StealRequestDecision[] =>
  ds.filter((d): d is StealRequestDecision => d.type === 'steal-request')

/** Worker `a` (1 process) holds all eleven tasks (saturationFactor 10, always prefetching); nothing is left queued. */
function backlog(): Scheduler {
  const s = new Scheduler({ saturationFactor: 10, roundTripMs: Infinity })
  s.addWorker({ id: 'a', procs: 1 }, 0)
  for (let i = 0; i < 11; i++) s.submit({ key: `t${i}`, fnKey: 'f', clientId: 'c' }, 0)
  s.takeDecisions()
  return s
}

test('stealing moves a backlog to a newly joined idle worker at once, next in line first, never the running one', (t) => {
  const s = backlog()
  s.addWorker({ id: 'b', procs: 2 }, 100)
  const ds = s.takeDecisions()
  t.true(
    ds.every((d) => d.type === 'steal-request'),
    'nothing queued: the new worker gets work only by stealing, without waiting for a tick',
  )
  const reqs = steals(ds)
  t.true(reqs.length >= 5, `stole ${reqs.length}`)
  t.true(reqs.length <= 8, `stole ${reqs.length}: about two thirds, not everything`)
  t.true(reqs.every((r) => r.victimId === 'a' && r.thiefId === 'b'))
  const order = reqs.map((r) => Number(r.key.slice(1)))
  t.is(order[0], 1, 'the next in line first: tasks keep their submission order')
  t.deepEqual(
    order,
    [...order].sort((x, y) => x - y),
  )
  t.false(
    reqs.some((r) => r.key === 't0'),
    't0 is in a’s running window',
  )
  for (const r of reqs) s.stealReply(r.key, 'a', true, 201)
  const moved = s.takeDecisions().filter((d) => d.type === 'assign')
  t.deepEqual(
    moved.map((d) => d.type === 'assign' && d.workerId),
    reqs.map(() => 'b'),
  )
  t.is(s.worker('b')!.processing + s.worker('b')!.queued, reqs.length)
  t.is(s.worker('a')!.processing + s.worker('a')!.queued, 11 - reqs.length)
  s.tick(300)
  t.deepEqual(steals(s.takeDecisions()), [], 'balanced: no churn')
})

test('a task reported started is never stolen', (t) => {
  const s = backlog()
  s.taskStarted('t10', 'a', 50) // the most attractive candidate, but it runs
  s.addWorker({ id: 'b', procs: 2 }, 100)
  s.tick(200)
  const reqs = steals(s.takeDecisions())
  t.true(reqs.length > 0)
  t.false(reqs.some((r) => r.key === 't10'))
})

test('stealReply not ok leaves the task where it is, and it is not asked for again', (t) => {
  const s = backlog()
  s.addWorker({ id: 'b', procs: 2 }, 100)
  s.tick(200)
  const [first, ...rest] = steals(s.takeDecisions())
  t.truthy(first)
  s.stealReply(first!.key, 'a', false, 201)
  for (const r of rest) s.stealReply(r.key, 'a', true, 201)
  const after = s.takeDecisions()
  t.false(after.some((d) => d.type === 'assign' && d.key === first!.key))
  t.is(s.task(first!.key)?.workerId, 'a')
  s.tick(300)
  s.tick(400)
  t.false(steals(s.takeDecisions()).some((r) => r.key === first!.key))
})

test('a steal overtaken by the task finishing on the victim is dropped', (t) => {
  const s = backlog()
  s.addWorker({ id: 'b', procs: 2 }, 100)
  s.tick(200)
  const [r] = steals(s.takeDecisions())
  s.taskFinished(r!.key, 'a', { durationMs: 5 }, 201)
  s.stealReply(r!.key, 'a', false, 202)
  t.false(s.takeDecisions().some((d) => d.type === 'assign' && d.key === r!.key))
  t.is(s.task(r!.key)?.state, 'memory')
  t.deepEqual(s.whoHas(r!.key), ['a'])
})

test('a steal whose thief left meanwhile puts the task back on the queue (and the victim may take it again)', (t) => {
  const s = backlog()
  s.addWorker({ id: 'b', procs: 2 }, 100)
  s.tick(200)
  const [r] = steals(s.takeDecisions())
  s.removeWorker('b', 201)
  s.stealReply(r!.key, 'a', true, 202)
  t.deepEqual(
    s.takeDecisions().filter((d) => d.type === 'assign'),
    [{ type: 'assign', key: r!.key, workerId: 'a', attempt: 1, deps: [] }],
  )
  t.is(s.task(r!.key)?.workerId, 'a')
})

test('cost-aware: a task whose inputs cost more to move than the wait it saves stays', (t) => {
  const s = new Scheduler()
  s.addWorker({ id: 'a', procs: 1 }, 0)
  s.submit({ key: 'data', fnKey: 'load', clientId: 'c' }, 0)
  s.takeDecisions()
  s.taskFinished('data', 'a', { durationMs: 10, nbytes: 2e9 }, 1) // 20 s to move at 100 MB/s
  for (let i = 0; i < 6; i++)
    s.submit({ key: `u${i}`, fnKey: 'use', clientId: 'c', deps: ['data'] }, 2)
  t.is(
    s.takeDecisions().filter((d) => d.type === 'assign').length,
    6,
    'data-heavy: all sent to the data',
  )
  s.addWorker({ id: 'b', procs: 4 }, 3)
  s.tick(100)
  t.deepEqual(steals(s.takeDecisions()), [])
})

test('no stealing when workStealing is off', (t) => {
  const s = new Scheduler({ saturationFactor: 10, workStealing: false })
  s.addWorker({ id: 'a', procs: 1 }, 0)
  for (let i = 0; i < 11; i++) s.submit({ key: `t${i}`, fnKey: 'f', clientId: 'c' }, 0)
  s.addWorker({ id: 'b', procs: 2 }, 100)
  s.tick(200)
  t.deepEqual(steals(s.takeDecisions()), [])
})

test('the thief is the one where the task would start earliest that may take it, past earlier thieves that may not', (t) => {
  const s = new Scheduler({ saturationFactor: 10, roundTripMs: Infinity })
  s.addWorker({ id: 'a', procs: 1 }, 0)
  for (let i = 0; i < 11; i++)
    s.submit({ key: `t${i}`, fnKey: 'f', clientId: 'c', workers: ['a', 'late'] }, 0)
  s.takeDecisions()
  // Idle, so first among the thieves, but the tasks may not run there.
  s.addWorker({ id: 'early', procs: 2 }, 50)
  t.deepEqual(steals(s.takeDecisions()), [])
  s.addWorker({ id: 'busy', procs: 1 }, 60)
  s.submit({ key: 'other', fnKey: 'g', clientId: 'c', workers: ['busy'] }, 60)
  s.takeDecisions()
  s.addWorker({ id: 'late', procs: 1 }, 100)
  const reqs = steals(s.takeDecisions())
  t.true(reqs.length > 0)
  t.true(reqs.every((r) => r.thiefId === 'late' && r.victimId === 'a'))
  s.tick(200)
  t.true(steals(s.takeDecisions()).every((r) => r.thiefId === 'late'))
})
