import test from 'ava'

import { Scheduler, type AssignDecision, type Decision } from '../src/scheduler/index.js'

const assigns = (ds: readonly Decision[]): AssignDecision[] =>
  ds.filter((d): d is AssignDecision => d.type === 'assign')
const ofType = <T extends Decision['type']>(
  ds: readonly Decision[],
  type: T,
): Extract<Decision, { type: T }>[] =>
  ds.filter((d): d is Extract<Decision, { type: T }> => d.type === type)

test('worker death: its tasks go back to the queue; only those that may have run count as suspicious', (t) => {
  const s = new Scheduler({ roundTripMs: Infinity }) // always prefetch: tasks wait on the worker
  s.addWorker({ id: 'a', procs: 2 }, 0)
  for (let i = 0; i < 4; i++) s.submit({ key: `t${i}`, fnKey: 'f', clientId: 'c' }, 0)
  t.is(assigns(s.takeDecisions()).length, 4)
  s.addWorker({ id: 'b', procs: 2 }, 1)
  s.removeWorker('a', 2)
  const again = assigns(s.takeDecisions())
  t.deepEqual(
    again.map((d) => [d.key, d.workerId]),
    [
      ['t0', 'b'],
      ['t1', 'b'],
      ['t2', 'b'],
      ['t3', 'b'],
    ],
  )
  t.deepEqual(
    ['t0', 't1', 't2', 't3'].map((k) => s.task(k)?.suspicious),
    [1, 1, 0, 0],
    'the first procs tasks were (taken as) running',
  )
})

test('KilledWorker: a task whose worker died allowedFailures (3) times fails, naming the workers', (t) => {
  const s = new Scheduler()
  s.submit({ key: 'bomb', fnKey: 'f', clientId: 'c' }, 0)
  for (const [i, name] of ['w1', 'w2', 'w3'].entries()) {
    s.addWorker({ id: name, procs: 1 }, i * 10)
    t.deepEqual(
      assigns(s.takeDecisions()).map((d) => d.key),
      ['bomb'],
    )
    s.taskStarted('bomb', name, i * 10 + 1)
    s.removeWorker(name, i * 10 + 5)
  }
  const [failed] = ofType(s.takeDecisions(), 'failed')
  t.like(failed, { key: 'bomb', reason: 'killed-worker', workers: ['w1', 'w2', 'w3'] })
  t.regex(failed!.message, /died/)
  t.is(s.task('bomb')?.state, 'erred')
  s.addWorker({ id: 'w4', procs: 1 }, 100)
  t.deepEqual(assigns(s.takeDecisions()), [], 'not run again')
})

test('retries: the attempt number goes up and is passed in assign; then the task errs', (t) => {
  const s = new Scheduler()
  s.addWorker({ id: 'w', procs: 1 }, 0)
  s.submit({ key: 'flaky', fnKey: 'f', clientId: 'c', retries: 2 }, 0)
  t.like(assigns(s.takeDecisions())[0], { key: 'flaky', attempt: 1 })
  s.taskErred('flaky', 'w', { durationMs: 1 }, 1)
  let ds = s.takeDecisions()
  t.like(ds[0], { type: 'retry', key: 'flaky', attempt: 2 })
  t.like(assigns(ds)[0], { key: 'flaky', attempt: 2 })
  s.taskErred('flaky', 'w', { durationMs: 1 }, 2)
  t.like(assigns(s.takeDecisions())[0], { key: 'flaky', attempt: 3 })
  s.taskErred('flaky', 'w', { durationMs: 1 }, 3)
  ds = s.takeDecisions()
  t.deepEqual(ds, [{ type: 'erred', key: 'flaky', workerId: 'w', attempt: 3 }])
  t.is(s.worker('w')?.failed, 3)
})

test('dependency failure: dependents fail with reason dependency naming the failed task, transitively', (t) => {
  const s = new Scheduler()
  s.addWorker({ id: 'w', procs: 2 }, 0)
  s.submit({ key: 'a', fnKey: 'f', clientId: 'c' }, 0)
  s.submit({ key: 'b', fnKey: 'f', clientId: 'c', deps: ['a'] }, 0)
  s.submit({ key: 'c', fnKey: 'f', clientId: 'c', deps: ['b'] }, 0)
  s.takeDecisions()
  s.taskErred('a', 'w', { durationMs: 1 }, 1)
  const ds = s.takeDecisions()
  t.like(ds[0], { type: 'erred', key: 'a' })
  t.like(ofType(ds, 'failed'), [
    { key: 'b', reason: 'dependency', dependency: 'a' },
    { key: 'c', reason: 'dependency', dependency: 'b' },
  ])
  s.submit({ key: 'd', fnKey: 'f', clientId: 'c', deps: ['a'] }, 2)
  t.like(s.takeDecisions(), [{ type: 'failed', key: 'd', reason: 'dependency', dependency: 'a' }])
  s.submit({ key: 'e', fnKey: 'f', clientId: 'c', deps: ['nope'] }, 2)
  const [unknown] = ofType(s.takeDecisions(), 'failed')
  t.like(unknown, { key: 'e', reason: 'dependency', dependency: 'nope' })
  t.regex(unknown!.message, /unknown/)
})

test('cancelling a dependency fails its dependents', (t) => {
  const s = new Scheduler()
  s.submit({ key: 'a', fnKey: 'f', clientId: 'c' }, 0)
  s.submit({ key: 'b', fnKey: 'f', clientId: 'c', deps: ['a'] }, 0)
  t.true(s.cancel('a', 1))
  const [failed] = ofType(s.takeDecisions(), 'failed')
  t.like(failed, { key: 'b', reason: 'dependency', dependency: 'a' })
  t.regex(failed!.message, /was cancelled/)
  t.false(s.cancel('a', 2), 'already cancelled')
})

test('cancel and release forget: a queued task', (t) => {
  const s = new Scheduler()
  s.submit({ key: 'q', fnKey: 'f', clientId: 'c' }, 0)
  t.true(s.cancel('q', 1))
  t.is(s.task('q')?.state, 'cancelled')
  s.addWorker({ id: 'w', procs: 1 }, 2)
  t.deepEqual(s.takeDecisions(), [], 'a cancelled task is never assigned')
  s.release('q', 3)
  t.deepEqual(s.takeDecisions(), [{ type: 'forgotten', key: 'q' }])
  t.is(s.task('q'), undefined)
  t.is(s.taskCounts().total, 0)
})

test('cancel of an assigned task: the worker is told, and its slot and resources stay booked until it answers', (t) => {
  const s = new Scheduler({ saturationFactor: 1, prefetch: 0 })
  s.addWorker({ id: 'w', procs: 1, resources: { GPU: 1 } }, 0)
  s.submit({ key: 'x', fnKey: 'f', clientId: 'c', resources: { GPU: 1 } }, 0)
  s.submit({ key: 'y', fnKey: 'f', clientId: 'c', resources: { GPU: 1 } }, 0)
  t.deepEqual(
    assigns(s.takeDecisions()).map((d) => d.key),
    ['x'],
  )
  t.true(s.cancel('x', 1))
  t.deepEqual(s.takeDecisions(), [{ type: 'cancel-on-worker', key: 'x', workerId: 'w' }])
  t.deepEqual(s.worker('w')?.usedResources, { GPU: 1 })
  s.taskDropped('x', 'w', 2)
  t.deepEqual(
    assigns(s.takeDecisions()).map((d) => d.key),
    ['y'],
  )
  s.taskFinished('y', 'w', { durationMs: 1, nbytes: 10 }, 3)
  s.release('y', 4)
  t.deepEqual(s.takeDecisions(), [
    { type: 'memory', key: 'y', workerId: 'w', nbytes: 10 },
    { type: 'release-data', key: 'y', workerIds: ['w'] },
    { type: 'forgotten', key: 'y' },
  ])
})

test('a result that arrives for a cancelled task is dropped, not accepted', (t) => {
  const s = new Scheduler()
  s.addWorker({ id: 'w', procs: 1 }, 0)
  s.submit({ key: 'x', fnKey: 'f', clientId: 'c' }, 0)
  s.takeDecisions()
  s.cancel('x', 1)
  s.takeDecisions()
  s.taskFinished('x', 'w', { durationMs: 1, nbytes: 5 }, 2)
  t.deepEqual(s.takeDecisions(), [{ type: 'release-data', key: 'x', workerIds: ['w'] }])
  t.is(s.task('x')?.state, 'cancelled')
})

test('release: data is kept while a dependent needs it, and the record while a dependent is not forgotten', (t) => {
  const s = new Scheduler()
  s.addWorker({ id: 'w', procs: 2 }, 0)
  s.submit({ key: 'a', fnKey: 'f', clientId: 'c' }, 0)
  s.submit({ key: 'b', fnKey: 'f', clientId: 'c', deps: ['a'] }, 0)
  s.takeDecisions()
  s.taskFinished('a', 'w', { durationMs: 1, nbytes: 100 }, 1)
  s.release('a', 2)
  t.deepEqual(ofType(s.takeDecisions(), 'release-data'), [], 'b still needs a')
  s.taskFinished('b', 'w', { durationMs: 1 }, 3)
  t.deepEqual(ofType(s.takeDecisions(), 'release-data'), [
    { type: 'release-data', key: 'a', workerIds: ['w'] },
  ])
  t.is(s.task('a')?.state, 'released', 'kept as lineage for b')
  s.release('b', 4)
  t.deepEqual(s.takeDecisions(), [
    { type: 'release-data', key: 'b', workerIds: ['w'] },
    { type: 'forgotten', key: 'b' },
    { type: 'forgotten', key: 'a' },
  ])
  t.is(s.taskCounts().total, 0)
  t.is(s.worker('w')?.dataKeys, 0)
})

test('lost data is recomputed from lineage when still needed', (t) => {
  const s = new Scheduler()
  s.addWorker({ id: 'a', procs: 1 }, 0)
  s.addWorker({ id: 'b', procs: 1 }, 0)
  s.submit({ key: 'x', fnKey: 'load', clientId: 'c' }, 0)
  const [ax] = assigns(s.takeDecisions())
  s.taskFinished('x', ax!.workerId, { durationMs: 1, nbytes: 100 }, 1)
  s.submit({ key: 'y', fnKey: 'use', clientId: 'c', deps: ['x'] }, 2)
  const [ay] = assigns(s.takeDecisions())
  s.taskFinished('y', ay!.workerId, { durationMs: 1, nbytes: 100 }, 3)
  s.release('x', 4) // x's data goes; its record stays as y's lineage
  s.takeDecisions()
  t.is(s.task('x')?.state, 'released')
  // y's worker dies: y is still wanted, so y is recomputed, and x first, from lineage.
  const dead = s.whoHas('y')[0]!
  const alive = dead === 'a' ? 'b' : 'a'
  s.removeWorker(dead, 5)
  let ds = s.takeDecisions()
  t.like(ds[0], { type: 'recomputing', key: 'y', lostOn: dead })
  t.deepEqual(
    assigns(ds).map((d) => [d.key, d.workerId]),
    [['x', alive]],
  )
  s.taskFinished('x', alive, { durationMs: 1, nbytes: 100 }, 6)
  ds = s.takeDecisions()
  t.like(assigns(ds), [{ key: 'y', workerId: alive, deps: [{ key: 'x', workerId: alive }] }])
  s.taskFinished('y', alive, { durationMs: 1, nbytes: 100 }, 7)
  t.is(s.task('y')?.state, 'memory')
  t.deepEqual(ofType(s.takeDecisions(), 'release-data'), [
    { type: 'release-data', key: 'x', workerIds: [alive] },
  ])
})

test('a dependent sent to another worker is called back when its input is lost before it started', (t) => {
  const s = new Scheduler({ roundTripMs: Infinity }) // b may take x while y's drop is pending
  s.addWorker({ id: 'a', procs: 1 }, 0)
  s.submit({ key: 'x', fnKey: 'load', clientId: 'c' }, 0)
  s.takeDecisions()
  s.taskFinished('x', 'a', { durationMs: 1, nbytes: 10 }, 1)
  s.submit({ key: 'busy', fnKey: 'long', clientId: 'c', resources: { slot: 1 } }, 1)
  s.addWorker({ id: 'b', procs: 1, resources: { slot: 1 } }, 1)
  s.submit(
    { key: 'y', fnKey: 'use', clientId: 'c', deps: ['x'], resources: { slot: 1 }, priority: 1 },
    1,
  )
  s.takeDecisions()
  s.taskFinished('busy', 'b', { durationMs: 1 }, 2)
  t.like(assigns(s.takeDecisions()), [
    { key: 'y', workerId: 'b', deps: [{ key: 'x', workerId: 'a' }] },
  ])
  s.removeWorker('a', 3)
  t.deepEqual(s.takeDecisions(), [
    { type: 'recomputing', key: 'x', lostOn: 'a' },
    { type: 'cancel-on-worker', key: 'y', workerId: 'b' },
    { type: 'assign', key: 'x', workerId: 'b', attempt: 1, deps: [] },
  ])
  t.is(s.task('y')?.state, 'waiting')
  s.taskDropped('y', 'b', 4)
  t.deepEqual(s.takeDecisions(), [])
  s.taskFinished('x', 'b', { durationMs: 1, nbytes: 10 }, 5)
  t.like(assigns(s.takeDecisions()), [
    { key: 'y', workerId: 'b', deps: [{ key: 'x', workerId: 'b' }] },
  ])
})

test('messages from unknown workers or about unknown tasks are ignored', (t) => {
  const s = new Scheduler()
  s.taskFinished('nope', 'ghost', { durationMs: 1 }, 0)
  s.taskErred('nope', 'ghost', { durationMs: 1 }, 0)
  s.taskStarted('nope', 'ghost', 0)
  s.stealReply('nope', 'ghost', true, 0)
  s.removeWorker('ghost', 0)
  s.release('nope', 0)
  t.false(s.cancel('nope', 0))
  s.addWorker({ id: 'w', procs: 1 }, 0)
  s.taskFinished('nope', 'w', { durationMs: 1 }, 0)
  t.deepEqual(s.takeDecisions(), [{ type: 'release-data', key: 'nope', workerIds: ['w'] }])
})

test('a worker dropping a task on its own puts it back on the queue, not counted as suspicious', (t) => {
  const s = new Scheduler()
  s.addWorker({ id: 'w', procs: 1 }, 0)
  s.submit({ key: 'x', fnKey: 'f', clientId: 'c' }, 0)
  s.takeDecisions()
  s.pauseWorker('w', 1)
  s.taskDropped('x', 'w', 2)
  t.is(s.task('x')?.state, 'queued', 'a paused worker gets nothing')
  t.is(s.task('x')?.suspicious, 0)
  s.resumeWorker('w', 3)
  t.like(assigns(s.takeDecisions()), [{ key: 'x', workerId: 'w', attempt: 1 }])
})
