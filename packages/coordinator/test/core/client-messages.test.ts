// Every message kind a client sends, through CoordinatorCore, with the messages that come out.
import { PROTOCOL_VERSION, sourceHash, type SourceFnRef } from '@clusterpool/protocol'
import test from 'ava'

import { resumeToken } from '../../src/core/resume-token.js'
import { assigned, errorsIn, protocolError, failure, result, task, testCore } from './harness.js'

test('hello: the client is welcomed with its id and the size of the cluster', (t) => {
  const h = testCore({ maxPayload: 1 << 20 })
  h.worker('w1', { procs: 3 })
  const c = h.client('notebook')
  t.deepEqual(c.link.take(), [
    {
      kind: 'welcome',
      version: PROTOCOL_VERSION,
      clientId: 'c1',
      maxPayload: 1 << 20,
      coordinator: {
        name: 'clusterpool-coordinator',
        versions: { node: process.versions.node, clusterpool: h.core.status().coordinator.version },
        workers: 1,
        procs: 3,
      },
      resumeToken: resumeToken('c1', undefined),
    },
  ])
  t.is(c.session.name, 'notebook')
  t.is(h.client().session.id, 'c2')
  t.is(h.core.clientCount, 2)
})

test('submit: running, then assign; the result goes to the client; progress and totals follow', (t) => {
  const h = testCore()
  const w = h.worker('w1')
  const c = h.client()
  c.link.take()
  w.link.take()
  c.send({ kind: 'submit', tasks: [task(1), task(2)] })
  t.deepEqual(w.link.take(), [{ kind: 'assign', tasks: [assigned('c1:1')] }])
  t.deepEqual(c.link.take(), [{ kind: 'running', ids: [1] }])
  t.deepEqual(h.core.progress.get('tasks.js#f'), { pending: 1, running: 1, done: 0, erred: 0 })

  w.send(result('c1:1', new Uint8Array([42])))
  t.deepEqual(c.link.take(), [
    { kind: 'results', items: [{ id: 1, value: new Uint8Array([42]) }] },
    { kind: 'running', ids: [2] },
  ])
  t.deepEqual(w.link.take(), [{ kind: 'assign', tasks: [assigned('c1:2')] }])
  t.deepEqual(h.core.progress.get('tasks.js#f'), { pending: 0, running: 1, done: 1, erred: 0 })
  t.deepEqual(h.core.totals, { submitted: 2, finished: 1, erred: 0, cancelled: 0 })
})

test('submit is refused for a duplicate id, an unknown function hash or an unknown dependency', (t) => {
  const h = testCore()
  const c = h.client()
  c.link.take()
  c.send({
    kind: 'submit',
    tasks: [
      task(1),
      task(1),
      task(2, { fn: { kind: 'source', hash: 'abc', name: 'g' } }),
      task(3, { deps: [9] }),
    ],
  })
  t.deepEqual(errorsIn(c.link.take()), [
    protocolError(1, 'task id 1 is already in use on this connection'),
    protocolError(2, 'function abc was never sent with its source'),
    {
      id: 3,
      name: 'DependencyError',
      code: 'CP_ERR_DEPENDENCY_FAILED',
      message: 'dependency task 9 is unknown to the coordinator (released, or never submitted)',
    },
  ])
  t.is(h.core.totals.submitted, 1)
})

test('submit: a function source goes to each worker once, later tasks name its hash', (t) => {
  const h = testCore()
  const c = h.client()
  const w = h.worker('w1', { procs: 4 })
  w.link.take()
  const hash = sourceHash('(x) => x')
  const fn: SourceFnRef = { kind: 'source', hash, source: '(x) => x', name: 'id' }
  c.send({ kind: 'submit', tasks: [task(1, { fn })] })
  c.send({ kind: 'submit', tasks: [task(2, { fn: { kind: 'source', hash, name: 'id' } })] })
  w.send(result('c1:1', new Uint8Array([1])))
  const sent = w.link.takeKind('assign').flatMap((m) => m.tasks.map((x) => x.fn))
  t.deepEqual(sent, [fn, { kind: 'source', hash, name: 'id' }])
  t.true(h.core.progress.has('id'))
})

test('cancel of a pending task: the client hears cancelled, and it never runs', (t) => {
  const h = testCore()
  const c = h.client()
  c.link.take()
  c.send({ kind: 'submit', tasks: [task(1)] })
  c.send({ kind: 'cancel', ids: [1] })
  t.deepEqual(c.link.take(), [{ kind: 'cancelled', ids: [1] }])
  t.is(h.core.totals.cancelled, 1)
  const w = h.worker('w1')
  t.deepEqual(w.link.takeKind('assign'), [])
  t.deepEqual(c.link.take(), [{ kind: 'cluster', workers: 1, procs: 1 }])
  c.send({ kind: 'cancel', ids: [1] })
  t.deepEqual(c.link.take(), [], 'a second cancel is a no-op')
  c.send({ kind: 'release', ids: [1] })
  t.deepEqual(h.core.progress.get('tasks.js#f'), { pending: 0, running: 0, done: 0, erred: 0 })
})

test('cancel of a running task aborts it on its worker; the error it ends with is final', (t) => {
  const h = testCore()
  const w = h.worker('w1')
  const c = h.client()
  c.send({ kind: 'submit', tasks: [task(1, { opts: { retries: 3 } })] })
  c.link.take()
  w.link.take()
  c.send({ kind: 'cancel', ids: [1] })
  t.deepEqual(w.link.take(), [{ kind: 'cancel', keys: ['c1:1'] }])
  t.deepEqual(c.link.take(), [], 'the future ends as the task does, not before')
  c.send({ kind: 'cancel', ids: [1] })
  t.deepEqual(w.link.take(), [], 'asked once')
  w.send(failure('c1:1', 'the task was aborted', 'AbortedError'))
  t.deepEqual(errorsIn(c.link.take()), [
    { id: 1, name: 'AbortedError', code: undefined, message: 'the task was aborted' },
  ])
  t.deepEqual(w.link.takeKind('assign'), [], 'not retried despite retries: 3')
  t.deepEqual(h.core.progress.get('tasks.js#f'), { pending: 0, running: 0, done: 0, erred: 1 })
})

/** Task 1 finished on w1 with a result of `size` bytes that stays there; the links are read. */
function heldTask(size: number) {
  const h = testCore()
  const w = h.worker('w1')
  const c = h.client()
  c.send({ kind: 'submit', tasks: [task(1)] })
  w.send(result('c1:1', undefined, size))
  const results = c.link.takeKind('results')
  w.link.take()
  return { ...h, w, c, results }
}

test('release of a held result tells its worker to drop it; the task is forgotten', (t) => {
  const { w, c, results, ...h } = heldTask(100_000)
  t.deepEqual(results, [{ kind: 'results', items: [{ id: 1, held: 100_000 }] }])
  c.send({ kind: 'release', ids: [1] })
  t.deepEqual(w.link.take(), [{ kind: 'release', keys: ['c1:1'] }])
  t.is(h.core.scheduler.task('c1:1'), undefined)
  c.send({ kind: 'gather', ids: [1] })
  t.deepEqual(errorsIn(c.link.take()), [
    protocolError(1, 'gather: task 1 is unknown (released, or never submitted)'),
  ])
})

test('gather: a held value is fetched from its worker and relayed to the client', (t) => {
  const { w, c, ...h } = heldTask(70_000)
  c.send({ kind: 'gather', ids: [1] })
  t.deepEqual(w.link.take(), [{ kind: 'fetch', keys: ['c1:1'] }])
  const value = new Uint8Array(70_000).fill(3)
  w.send({ kind: 'data', items: [{ key: 'c1:1', value }] })
  t.deepEqual(c.link.take(), [{ kind: 'results', items: [{ id: 1, value }] }])
  t.deepEqual(h.core.transfers, { values: 1, bytes: 70_000 })
})

test('gather of a value its holder no longer has: DataLostError', (t) => {
  const { w, c } = heldTask(70_000)
  c.send({ kind: 'gather', ids: [1] })
  w.send({ kind: 'data', items: [], missing: ['c1:1'] })
  t.deepEqual(errorsIn(c.link.take()), [
    {
      id: 1,
      name: 'DataLostError',
      code: 'CP_ERR_DATA_LOST',
      message: 'the value of tasks.js#f-1 could not be fetched from its workers',
    },
  ])
})

test('scatter: the value is stored on a worker, the future finishes held, a dependent runs there', (t) => {
  const h = testCore()
  const w1 = h.worker('w1')
  const c = h.client()
  w1.link.take()
  c.link.take()
  const value = new Uint8Array([7, 7, 7])
  c.send({ kind: 'scatter', items: [{ id: 5, value }] })
  t.deepEqual(w1.link.take(), [{ kind: 'store', items: [{ key: 'c1:5', value }] }])
  t.deepEqual(c.link.take(), [{ kind: 'results', items: [{ id: 5, held: 3 }] }])
  t.deepEqual(h.core.totals, { submitted: 0, finished: 0, erred: 0, cancelled: 0 })
  t.is(h.core.progress.size, 0, 'scattered data is not a task')

  c.send({ kind: 'scatter', items: [{ id: 5, value }] })
  t.deepEqual(errorsIn(c.link.take()), [
    protocolError(5, 'scatter id 5 is already in use on this connection'),
  ])
  c.send({ kind: 'submit', tasks: [task(6, { deps: [5] })] })
  t.deepEqual(w1.link.take(), [
    {
      kind: 'assign',
      tasks: [{ ...assigned('c1:6'), deps: [{ id: 5, key: 'c1:5' }] }],
    },
  ])
})

test('scatter with no worker to take it fails with NoWorkerError', (t) => {
  const h = testCore()
  const c = h.client()
  c.link.take()
  c.send({ kind: 'scatter', items: [{ id: 1, value: new Uint8Array([1]) }] })
  const errors = errorsIn(c.link.take())
  t.deepEqual(
    errors.map((e) => [e.id, e.name, e.code]),
    [[1, 'NoWorkerError', 'CP_ERR_NO_WORKER']],
  )
})

test('ping is answered by a pong with its seq', (t) => {
  const h = testCore()
  const c = h.client()
  c.link.take()
  c.send({ kind: 'ping', seq: 17 }, { kind: 'ping', seq: 18 })
  t.deepEqual(c.link.take(), [
    { kind: 'pong', seq: 17 },
    { kind: 'pong', seq: 18 },
  ])
})

test('a second hello closes the connection with 4400', (t) => {
  const h = testCore()
  const c = h.client()
  c.send({ kind: 'hello', version: PROTOCOL_VERSION, role: 'client' })
  t.true(c.link.closed)
  t.deepEqual(c.link.closedWith, { code: 4400, reason: 'hello was already received' })
})

test('a client that disconnects: its tasks are cancelled and released, running ones on their worker', (t) => {
  const h = testCore()
  const w = h.worker('w1')
  const c = h.client()
  c.send({ kind: 'submit', tasks: [task(1), task(2)] })
  w.link.take()
  h.core.onClientClosed(c.session)
  t.deepEqual(w.link.take(), [{ kind: 'cancel', keys: ['c1:1'] }])
  t.is(h.core.totals.cancelled, 2)
  t.is(h.core.clientCount, 0)
  t.is(h.core.scheduler.task('c1:2'), undefined, 'the pending one is forgotten at once')
  w.send(result('c1:1', new Uint8Array([1])))
  t.is(h.core.scheduler.taskCounts().total, 0, 'nothing is left')
  t.deepEqual(h.core.progress.get('tasks.js#f'), { pending: 0, running: 0, done: 0, erred: 0 })
  h.core.onClientClosed(c.session)
  t.is(h.core.totals.cancelled, 2, 'closing twice changes nothing')
})
