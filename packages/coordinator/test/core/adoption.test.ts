// A coordinator restart, through the core: workers' inventories and resuming clients meet in
// either order, through recording sinks, without sockets (`Adoption`).
import { CloseCode, encodeValue, createEncoder, type ClientHello } from '@clusterpool/protocol'
import test from 'ava'

import { resumeToken } from '../../src/core/resume-token.js'
import { assigned, errorsIn, result, task, testCore, type TestCore } from './harness.js'

/** The hello extras of a client taking back id `c1` (the harness's core has no token). */
function resume(held: number[] = [], id = 'c1', workers?: number): Partial<ClientHello> {
  return {
    resume: {
      clientId: id,
      resumeToken: resumeToken(id, undefined),
      held,
      ...(workers === undefined ? {} : { workers }),
    },
  }
}

const BIG = 100_000

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

/** A core of a restarted coordinator (nothing is known yet), with a long grace period. */
function restarted(resumeGraceMs = 60_000): TestCore {
  return testCore({ resumeGraceMs })
}

test('workers first: a resubmitted task an inventory names is bound to that worker, not run elsewhere', (t) => {
  const h = restarted()
  const idle = h.worker('idle', { procs: 4 })
  const keeper = h.worker('keeper', {
    procs: 1,
    inventory: { tasks: ['c1:1'], held: [{ key: 'c1:2', size: BIG }] },
  })
  idle.link.take()
  keeper.link.take()
  t.deepEqual(h.core.adoption, { unclaimedTasks: 1, unclaimedHeld: 1, parked: 0 })

  const c = h.client('resumed', resume([2]))
  t.is(c.session.id, 'c1', 'the client has its id back')
  c.link.take()
  c.send({ kind: 'submit', tasks: [task(1, { ran: true }), task(3)] })
  // The keeper is asked again and answers from what it kept; the idle worker gets the new task.
  t.deepEqual(keeper.link.take(), [{ kind: 'assign', tasks: [assigned('c1:1')] }])
  t.deepEqual(idle.link.take(), [{ kind: 'assign', tasks: [assigned('c1:3')] }])
  t.deepEqual(h.core.adoption, { unclaimedTasks: 0, unclaimedHeld: 0, parked: 0 })

  keeper.send(result('c1:1', new Uint8Array([7])))
  t.deepEqual(c.link.takeKind('results'), [
    { kind: 'results', items: [{ id: 1, value: new Uint8Array([7]) }] },
  ])
  // The held value claimed back is fetched from the worker that kept it.
  c.send({ kind: 'gather', ids: [2] })
  t.deepEqual(keeper.link.take(), [{ kind: 'fetch', keys: ['c1:2'] }])
  t.is(h.core.scheduler.task('c1:1')?.state, 'memory')
})

test('clients first: a task that ran waits, parked, for the inventory; one that never ran goes at once', (t) => {
  const h = restarted()
  const fresh = h.worker('fresh', { procs: 4 })
  fresh.link.take()
  const c = h.client('resumed', resume([2]))
  c.link.take()
  c.send({ kind: 'submit', tasks: [task(1, { ran: true }), task(3)] })
  t.deepEqual(fresh.link.take(), [{ kind: 'assign', tasks: [assigned('c1:3')] }])
  t.is(h.core.scheduler.task('c1:1')?.state, 'waiting', 'not given to the fresh worker')
  t.deepEqual(h.core.adoption, { unclaimedTasks: 0, unclaimedHeld: 0, parked: 2 })

  // A dependent of the claimed held value waits for it too.
  c.send({ kind: 'submit', tasks: [task(4, { deps: [2] })] })
  t.deepEqual(fresh.link.take(), [])

  const keeper = h.worker('keeper', {
    inventory: { tasks: ['c1:1'], held: [{ key: 'c1:2', size: BIG }] },
  })
  t.deepEqual(h.core.adoption, { unclaimedTasks: 0, unclaimedHeld: 0, parked: 0 })
  const toKeeper = keeper.link.takeKind('assign').flatMap((m) => m.tasks.map((x) => x.key))
  t.true(toKeeper.includes('c1:1'), 'the parked task is bound to the worker that has it')
  t.is(h.core.scheduler.task('c1:2')?.state, 'memory')
  t.deepEqual(h.core.scheduler.whoHas('c1:2'), [keeper.id])
  // Its dependent is placed now (next to its input, or relayed from there).
  const view = h.core.scheduler.task('c1:4')
  t.true(view?.state === 'processing' || view?.state === 'queued')
})

test('a resumed client that knew two workers: its tasks wait until two are back, then bind or run', (t) => {
  const h = restarted()
  const c = h.client('resumed', resume([], 'c1', 2))
  c.link.take()
  const first = h.worker('first', { inventory: { tasks: ['c1:1'], held: [] } })
  first.link.take()
  c.send({ kind: 'submit', tasks: [task(1), task(2), task(3)] })
  // Task 1 is bound at once; 2 and 3 wait: the second worker may have them.
  t.deepEqual(first.link.take(), [{ kind: 'assign', tasks: [assigned('c1:1')] }])
  t.is(h.core.adoption.parked, 2)
  const second = h.worker('second', { procs: 2, inventory: { tasks: ['c1:2'], held: [] } })
  const toSecond = second.link.takeKind('assign').flatMap((m) => m.tasks.map((x) => x.key))
  t.true(toSecond.includes('c1:2'), 'bound to the worker that has it')
  t.is(h.core.adoption.parked, 0, 'both workers are back: the rest runs anew')
  const toFirst = first.link.takeKind('assign').flatMap((m) => m.tasks.map((x) => x.key))
  t.deepEqual([...toFirst, ...toSecond.filter((k) => k !== 'c1:2')], ['c1:3'])
})

test('a resubmitted task whose result an inventory holds is bound to it (the worker reports it)', (t) => {
  const h = restarted()
  const keeper = h.worker('keeper', {
    inventory: { tasks: [], held: [{ key: 'c1:5', size: BIG }] },
  })
  keeper.link.take()
  const c = h.client('resumed', resume())
  c.link.take()
  c.send({ kind: 'submit', tasks: [task(5, { keep: true })] })
  t.deepEqual(keeper.link.take(), [{ kind: 'assign', tasks: [assigned('c1:5')] }])
  keeper.send(result('c1:5', undefined, BIG))
  t.deepEqual(c.link.takeKind('results'), [{ kind: 'results', items: [{ id: 5, held: BIG }] }])
})

test('a forged resume is refused with AuthError, and takes nothing', (t) => {
  const h = restarted()
  const owner = h.client('owner')
  t.is(owner.session.id, 'c1')
  const thief = h.client('thief', {
    resume: { clientId: 'c1', resumeToken: resumeToken('c2', undefined), held: [] },
  })
  t.like(thief.link.take()[0], { kind: 'refuse', code: 'CP_ERR_AUTH' })
  t.is(thief.link.closedWith?.code, CloseCode.AUTH)
  t.false(owner.link.closed, 'the owner keeps its connection')
  t.is(h.core.clientCount, 1)
  // The token of another coordinator's secret does not prove the id either.
  const other = h.client('other', {
    resume: { clientId: 'c1', resumeToken: resumeToken('c1', 'another-secret'), held: [] },
  })
  t.like(other.link.take()[0], { kind: 'refuse', code: 'CP_ERR_AUTH' })
})

test('a client resuming over a session still open under its id replaces it', (t) => {
  const h = restarted()
  const w = h.worker('w')
  const old = h.client('old')
  old.send({ kind: 'submit', tasks: [task(1)] })
  w.link.take()
  const again = h.client('again', resume())
  t.is(again.session.id, 'c1')
  t.true(old.link.closed)
  t.is(h.core.clientCount, 1)
  t.deepEqual(
    w.link.take(),
    [{ kind: 'cancel', keys: ['c1:1'] }],
    'the old session released its task',
  )
})

test('after the grace period: unclaimed inventory entries are dropped on their workers', async (t) => {
  const h = restarted(40)
  const w = h.worker('keeper', {
    inventory: { tasks: ['c9:1'], held: [{ key: 'c9:2', size: BIG }] },
  })
  w.link.take()
  h.core.tick()
  t.deepEqual(w.link.take(), [], 'kept during the grace period')
  await sleep(60)
  h.core.tick()
  t.deepEqual(w.link.take(), [
    { kind: 'cancel', keys: ['c9:1'] },
    { kind: 'release', keys: ['c9:2'] },
  ])
  t.deepEqual(h.core.adoption, { unclaimedTasks: 0, unclaimedHeld: 0, parked: 0 })
})

test('after the grace period: a parked task runs anew, a claimed value nobody kept is lost', async (t) => {
  const h = restarted(40)
  const c = h.client('resumed', resume([2]))
  c.link.take()
  c.send({ kind: 'submit', tasks: [task(1, { ran: true })] })
  const w = h.worker('fresh')
  w.link.take()
  await sleep(60)
  h.core.tick()
  t.deepEqual(w.link.take(), [{ kind: 'assign', tasks: [assigned('c1:1')] }])
  c.link.take()
  c.send({ kind: 'gather', ids: [2] })
  t.like(errorsIn(c.link.take())[0], { id: 2, name: 'DataLostError', code: 'CP_ERR_DATA_LOST' })
})

test('a claimed value gathered before its worker is back is sent once it is', (t) => {
  const h = restarted()
  const c = h.client('resumed', resume([2]))
  c.link.take()
  c.send({ kind: 'gather', ids: [2] })
  t.deepEqual(c.link.take(), [])
  const keeper = h.worker('keeper', { inventory: { tasks: [], held: [{ key: 'c1:2', size: 3 }] } })
  t.deepEqual(keeper.link.takeKind('fetch'), [{ kind: 'fetch', keys: ['c1:2'] }])
  const value = encodeValue(createEncoder(), 'abc', 'test')
  keeper.send({ kind: 'data', items: [{ key: 'c1:2', value }] })
  t.deepEqual(c.link.takeKind('results'), [{ kind: 'results', items: [{ id: 2, value }] }])
})

test('a live coordinator: inventory entries it knows otherwise are dropped there at once', (t) => {
  const h = testCore()
  const w1 = h.worker('w1')
  const c = h.client()
  c.send({ kind: 'submit', tasks: [task(1)] })
  w1.link.take()
  // A worker that was paused past its heartbeats comes back with the task in its inventory.
  const w2 = h.worker('w2', {
    inventory: { tasks: ['c1:1', 'c1:99'], held: [{ key: 'c1:1', size: BIG }] },
  })
  t.deepEqual(w2.link.take().slice(1), [
    { kind: 'cancel', keys: ['c1:1'] },
    { kind: 'release', keys: ['c1:1'] },
  ])
  t.deepEqual(h.core.adoption, { unclaimedTasks: 1, unclaimedHeld: 0, parked: 0 })
})

test('a resumed client scattering again while no worker is back: the value waits, then is stored', (t) => {
  const h = restarted()
  const c = h.client('resumed', resume([], 'c1', 1))
  c.link.take()
  const value = encodeValue(createEncoder(), 7, 'test')
  c.send(
    { kind: 'scatter', items: [{ id: 4, value }] },
    { kind: 'submit', tasks: [task(5, { deps: [4] })] },
    { kind: 'release', ids: [4] },
  )
  t.deepEqual(errorsIn(c.link.take()), [], 'no NoWorkerError, no DependencyError')
  t.is(h.core.adoption.parked, 2)
  const w = h.worker('back')
  const out = w.link.take()
  t.like(out[1], { kind: 'store', items: [{ key: 'c1:4', value }] })
  t.like(out[2], { kind: 'assign', tasks: [{ key: 'c1:5', deps: [{ id: 4, key: 'c1:4' }] }] })
  t.is(h.core.adoption.parked, 0)
})
