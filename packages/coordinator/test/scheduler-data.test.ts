import test from 'ava'

import { Scheduler, type AssignDecision, type Decision } from '../src/scheduler/index.js'

const ofType = <T extends Decision['type']>(
  ds: readonly Decision[],
  type: T,
): Extract<Decision, { type: T }>[] =>
  ds.filter((d): d is Extract<Decision, { type: T }> => d.type === type)
const assigns = (ds: readonly Decision[]): AssignDecision[] => ofType(ds, 'assign')

function twoWorkers(): Scheduler {
  const s = new Scheduler()
  s.addWorker({ id: 'a', name: 'alpha', procs: 2 }, 0)
  s.addWorker({ id: 'b', name: 'beta', procs: 2 }, 0)
  s.takeDecisions()
  return s
}

test('scatter: the value goes to the worker holding the fewest results, stored then in memory', (t) => {
  const s = twoWorkers()
  s.scatter({ key: 'd1', clientId: 'c', nbytes: 1e6 }, 1)
  const first = s.takeDecisions()
  t.deepEqual(
    first.map((d) => d.type),
    ['store', 'memory'],
  )
  const target = ofType(first, 'store')[0]!.workerId
  t.like(ofType(first, 'memory')[0], { key: 'd1', workerId: target, nbytes: 1e6 })
  t.is(s.task('d1')?.state, 'memory')
  s.scatter({ key: 'd2', clientId: 'c', nbytes: 1e6 }, 2)
  const second = ofType(s.takeDecisions(), 'store')[0]!.workerId
  t.not(second, target, 'the next value goes to the other worker')
  t.deepEqual(s.whoHas('d2'), [second])
})

test('scatter honours a workers restriction, and fails with no-worker when none matches', (t) => {
  const s = twoWorkers()
  s.scatter({ key: 'd1', clientId: 'c', nbytes: 10, workers: ['beta'] }, 1)
  t.like(ofType(s.takeDecisions(), 'store')[0], { workerId: 'b' })
  s.scatter({ key: 'd2', clientId: 'c', nbytes: 10, workers: ['gamma'] }, 2)
  const [failed] = ofType(s.takeDecisions(), 'failed')
  t.like(failed, { key: 'd2', reason: 'no-worker' })
})

test('a dependent of scattered data runs where the data is, told the data is local', (t) => {
  const s = twoWorkers()
  s.scatter({ key: 'big', clientId: 'c', nbytes: 50e6 }, 1)
  const holder = ofType(s.takeDecisions(), 'store')[0]!.workerId
  // Load the holder's neighbour less: locality must still win for a 50 MB input.
  s.submit({ key: 'use', fnKey: 'f', clientId: 'c', deps: ['big'] }, 2)
  const [assign] = assigns(s.takeDecisions())
  t.like(assign, { key: 'use', workerId: holder })
  t.deepEqual(assign!.deps, [{ key: 'big', workerId: holder, nbytes: 50e6 }])
})

test('scattered data lost with its worker fails with data-lost, and so do dependents not started', (t) => {
  const s = twoWorkers()
  s.scatter({ key: 'd', clientId: 'c', nbytes: 10, workers: ['a'] }, 1)
  s.submit({ key: 'gate', fnKey: 'slow', clientId: 'c' }, 1)
  s.submit({ key: 'later', fnKey: 'f', clientId: 'c', deps: ['d', 'gate'] }, 1)
  s.takeDecisions()
  s.removeWorker('a', 5)
  const ds = s.takeDecisions()
  const failed = ofType(ds, 'failed')
  t.like(
    failed.find((d) => d.key === 'd'),
    { reason: 'data-lost' },
  )
  const dep = failed.find((d) => d.key === 'later')
  t.like(dep, { reason: 'dependency', dependency: 'd' })
  t.regex(dep!.message, /was lost with its worker/)
  t.is(ofType(ds, 'recomputing').length, 0, 'scattered data has no lineage to recompute')
  t.is(s.task('d')?.state, 'erred')
})

test('a replica: both workers hold the data, and losing one keeps it in memory', (t) => {
  const s = twoWorkers()
  s.scatter({ key: 'd', clientId: 'c', nbytes: 10, workers: ['a'] }, 1)
  s.takeDecisions()
  s.addReplica('d', 'b', 2)
  t.deepEqual(s.whoHas('d').sort(), ['a', 'b'])
  s.removeWorker('a', 3)
  t.deepEqual(ofType(s.takeDecisions(), 'failed'), [])
  t.deepEqual(s.whoHas('d'), ['b'])
  s.release('d', 4)
  t.like(ofType(s.takeDecisions(), 'release-data')[0], { key: 'd', workerIds: ['b'] })
})

test('a released scattered value is dropped on its worker and forgotten', (t) => {
  const s = twoWorkers()
  s.scatter({ key: 'd', clientId: 'c', nbytes: 10 }, 1)
  const holder = ofType(s.takeDecisions(), 'store')[0]!.workerId
  s.release('d', 2)
  const ds = s.takeDecisions()
  t.like(ofType(ds, 'release-data')[0], { key: 'd', workerIds: [holder] })
  t.like(ofType(ds, 'forgotten')[0], { key: 'd' })
})
