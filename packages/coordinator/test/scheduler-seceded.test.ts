import test from 'ava'

import { Scheduler, type AssignDecision, type Decision } from '../src/scheduler/index.js'

const assigns = (ds: readonly Decision[]): AssignDecision[] =>
  ds.filter((d): d is AssignDecision => d.type === 'assign')
const steals = (ds: readonly Decision[]): Decision[] => ds.filter((d) => d.type === 'steal-request')

function oneWorker(procs = 1): Scheduler {
  const s = new Scheduler()
  s.addWorker({ id: 'a', name: 'alpha', procs }, 0)
  s.takeDecisions()
  return s
}

test('a seceded task frees its slot: the next queued task is assigned to the same worker', (t) => {
  const s = oneWorker(1)
  s.submit({ key: 'parent', fnKey: 'p', clientId: 'c' }, 0)
  t.deepEqual(
    assigns(s.takeDecisions()).map((a) => a.key),
    ['parent'],
  )
  s.taskStarted('parent', 'a', 1)
  s.submit({ key: 'child', fnKey: 'q', clientId: 'c', priority: 0.001 }, 2)
  t.deepEqual(assigns(s.takeDecisions()), [], 'no slot while the parent runs')
  s.seceded('parent', 'a', true, 3)
  t.deepEqual(
    assigns(s.takeDecisions()).map((a) => a.key),
    ['child'],
    'the parent waits: its slot goes to its child',
  )
  t.is(s.workers()[0]?.seceded, 1)
  s.seceded('parent', 'a', false, 4)
  t.is(s.workers()[0]?.seceded, 0, 'rejoined: it holds its slot again')
  s.taskFinished('child', 'a', { durationMs: 1 }, 5)
  s.taskFinished('parent', 'a', { durationMs: 5 }, 6)
  t.is(s.task('parent')?.state, 'memory')
})

test('seceded is believed only from the worker that holds the task', (t) => {
  const s = new Scheduler()
  s.addWorker({ id: 'a', name: 'alpha', procs: 1 }, 0)
  s.addWorker({ id: 'b', name: 'beta', procs: 1 }, 0)
  s.submit({ key: 'x', fnKey: 'f', clientId: 'c' }, 0)
  const [a] = assigns(s.takeDecisions())
  const other = a!.workerId === 'a' ? 'b' : 'a'
  s.seceded('x', other, true, 1)
  t.is(s.workers().find((w) => w.id === a!.workerId)?.seceded, 0)
  t.is(s.workers().find((w) => w.id === other)?.seceded, 0)
})

test('two workers whose only tasks seceded do not steal a new child back and forth', (t) => {
  const s = new Scheduler()
  s.addWorker({ id: 'a', name: 'alpha', procs: 1 }, 0)
  s.addWorker({ id: 'b', name: 'beta', procs: 1 }, 0)
  s.submit({ key: 'p1', fnKey: 'p', clientId: 'c' }, 0)
  s.submit({ key: 'p2', fnKey: 'p', clientId: 'c' }, 0)
  const placed = assigns(s.takeDecisions())
  t.is(placed.length, 2)
  for (const p of placed) {
    s.taskStarted(p.key, p.workerId, 1)
    s.seceded(p.key, p.workerId, true, 2)
  }
  s.takeDecisions()
  s.submit({ key: 'c1', fnKey: 'q', clientId: 'c', priority: 0.001 }, 3)
  const ds = s.takeDecisions()
  t.is(assigns(ds).length, 1)
  t.deepEqual(steals(ds), [], 'the worker given the child is as idle as the other: no steal')
  s.tick(200)
  t.deepEqual(steals(s.takeDecisions()), [])
})

test('a seceded task keeps its resources while it waits', (t) => {
  const s = new Scheduler()
  s.addWorker({ id: 'g', name: 'gpu', procs: 2, resources: { GPU: 1 } }, 0)
  s.submit({ key: 'p', fnKey: 'p', clientId: 'c', resources: { GPU: 1 } }, 0)
  t.is(assigns(s.takeDecisions()).length, 1)
  s.taskStarted('p', 'g', 1)
  s.seceded('p', 'g', true, 2)
  s.submit({ key: 'other', fnKey: 'q', clientId: 'c', resources: { GPU: 1 } }, 3)
  t.deepEqual(assigns(s.takeDecisions()), [], 'the GPU is still the waiting task')
  s.submit({ key: 'cpu', fnKey: 'r', clientId: 'c' }, 4)
  t.deepEqual(
    assigns(s.takeDecisions()).map((a) => a.key),
    ['cpu'],
  )
})
