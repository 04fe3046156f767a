/**
 * Queue groups are keyed by the task's constraints, whose names come from clients and workers:
 * a key that joins names with a separator lets one list pass for another. These are the cases
 * that did, each checked through the scheduler's decisions.
 */
import test from 'ava'

import { Scheduler, type Decision } from '../src/scheduler/index.js'
import { groupSignature } from '../src/scheduler/group.js'

/** Which worker each assigned task went to. */
const placed = (ds: readonly Decision[]): Record<string, string> =>
  Object.fromEntries(ds.flatMap((d) => (d.type === 'assign' ? [[d.key, d.workerId]] : [])))

test("workers: ['alpha,beta'] is not ['alpha', 'beta']: a worker named 'alpha,beta' takes no honest task", (t) => {
  const s = new Scheduler()
  // The hostile client's task comes first, so it would have made the group.
  s.submit({ key: 'evil', fnKey: 'f', clientId: 'mallory', workers: ['alpha,beta'] }, 0)
  s.submit({ key: 'honest-1', fnKey: 'f', clientId: 'alice', workers: ['alpha', 'beta'] }, 0)
  s.submit({ key: 'honest-2', fnKey: 'f', clientId: 'alice', workers: ['beta', 'alpha'] }, 0)
  t.deepEqual(placed(s.takeDecisions()), {})
  s.addWorker({ id: 'w-evil', name: 'alpha,beta', procs: 4 }, 1)
  t.deepEqual(placed(s.takeDecisions()), { evil: 'w-evil' })
  s.addWorker({ id: 'w-alpha', name: 'alpha', procs: 4 }, 2)
  t.deepEqual(placed(s.takeDecisions()), { 'honest-1': 'w-alpha', 'honest-2': 'w-alpha' })
})

test("workers: ['alpha', 'beta'] first, then a worker named 'alpha,beta' and a task for it", (t) => {
  const s = new Scheduler()
  s.submit({ key: 'honest', fnKey: 'f', clientId: 'alice', workers: ['alpha', 'beta'] }, 0)
  s.addWorker({ id: 'w-evil', name: 'alpha,beta', procs: 4 }, 1)
  t.deepEqual(placed(s.takeDecisions()), {})
  s.submit({ key: 'evil', fnKey: 'f', clientId: 'mallory', workers: ['alpha,beta'] }, 2)
  t.deepEqual(placed(s.takeDecisions()), { evil: 'w-evil' })
  s.addWorker({ id: 'w-beta', name: 'beta', host: 'h', procs: 1 }, 3)
  t.deepEqual(placed(s.takeDecisions()), { honest: 'w-beta' })
})

test("resources { 'GPU=1,MEM': 2 } is not { GPU: 1, MEM: 2 }", (t) => {
  const s = new Scheduler()
  s.addWorker({ id: 'w-evil', procs: 4, resources: { 'GPU=1,MEM': 2 } }, 0)
  s.submit({ key: 'evil', fnKey: 'f', clientId: 'mallory', resources: { 'GPU=1,MEM': 2 } }, 0)
  s.submit({ key: 'honest', fnKey: 'f', clientId: 'alice', resources: { GPU: 1, MEM: 2 } }, 0)
  t.deepEqual(placed(s.takeDecisions()), { evil: 'w-evil' })
  s.addWorker({ id: 'w-gpu', procs: 1, resources: { GPU: 1, MEM: 4 } }, 1)
  t.deepEqual(placed(s.takeDecisions()), { honest: 'w-gpu' })
})

test('group signatures: equal constraints share one, lists that joined alike do not', (t) => {
  const sig = groupSignature
  t.is(sig(null, null, false), '')
  t.is(sig(null, ['b', 'a', 'a'], false), sig(null, ['a', 'b'], false), 'a set, in any order')
  t.not(sig(null, ['alpha,beta'], false), sig(null, ['alpha', 'beta'], false))
  t.not(sig(null, ['a"', 'b'], false), sig(null, ['a', '"b'], false))
  t.not(
    sig([['GPU=1,MEM', 2]], null, false),
    sig(
      [
        ['GPU', 1],
        ['MEM', 2],
      ],
      null,
      false,
    ),
  )
  t.not(sig([['GPU', 1]], ['x'], false), sig([['GPU', 1]], ['x'], true))
  t.not(sig([['a', 1]], null, false), sig(null, ['a=1'], false))
})
