// Every message kind a worker sends, through CoordinatorCore, with the messages that come out.
import { PROTOCOL_VERSION } from '@clusterpool/protocol'
import test from 'ava'

import { assigned, errorsIn, failure, result, task, testCore } from './harness.js'

test('hello: the worker is welcomed with its id and settings; clients hear the new size', (t) => {
  const h = testCore({ heartbeatIntervalMs: 250, holdResultsOverBytes: 1000 })
  const c = h.client()
  c.link.take()
  const w = h.worker('w-a', { procs: 2 })
  t.deepEqual(w.link.take(), [
    {
      kind: 'welcome',
      version: PROTOCOL_VERSION,
      workerId: 'w1',
      heartbeatIntervalMs: 250,
      maxPayload: 64 * 1024 * 1024,
      holdResultsOverBytes: 1000,
    },
  ])
  t.deepEqual(c.link.take(), [{ kind: 'cluster', workers: 1, procs: 2 }])
  t.is(h.core.workerCount, 1)
  t.is(h.core.scheduler.worker('w1')?.name, 'w-a')
})

test('heartbeat: the worker’s load and memory show in the status', (t) => {
  const h = testCore()
  const w = h.worker('w1', { procs: 2 })
  w.send({ kind: 'heartbeat', running: 2, queued: 5, cpu: 1.5, memoryRss: 123, heldBytes: 456 })
  const status = h.core.status().workers[0]!
  t.like(status, { id: 'w1', cpu: 1.5, memoryRss: 123, heldBytes: 456, state: 'running' })
  t.is(w.session.running, 2)
  t.is(w.session.queued, 5)
})

test('results: a result for a task nobody has is a violation, dropped (see trust.test.ts)', (t) => {
  const h = testCore()
  const w = h.worker('w1')
  w.link.take()
  w.send(result('c9:9', new Uint8Array([1])))
  t.deepEqual(w.link.take(), [])
  t.is(w.session.violations, 1)
})

test('errors: retried while retries are left, then the worker’s error reaches the client', (t) => {
  const h = testCore()
  const w = h.worker('w1')
  const c = h.client()
  c.send({ kind: 'submit', tasks: [task(1, { opts: { retries: 1 } })] })
  c.link.take()
  t.deepEqual(w.link.take().at(-1), {
    kind: 'assign',
    tasks: [{ ...assigned('c1:1'), opts: { retries: 1 } }],
  })
  w.send(failure('c1:1', 'first'))
  t.deepEqual(w.link.take(), [
    { kind: 'assign', tasks: [{ ...assigned('c1:1', 2), opts: { retries: 1 } }] },
  ])
  t.deepEqual(c.link.take(), [], 'the client waits for the retry')
  w.send(failure('c1:1', 'second', 'TypeError'))
  t.deepEqual(errorsIn(c.link.take()), [
    { id: 1, name: 'TypeError', code: undefined, message: 'second' },
  ])
  t.deepEqual(h.core.progress.get('tasks.js#f'), { pending: 0, running: 0, done: 0, erred: 1 })
  t.like(h.core.totals, { erred: 1, finished: 0 })
})

test('leaving: the worker gets nothing new, and the tasks it returns go elsewhere', (t) => {
  const h = testCore()
  const w1 = h.worker('w1')
  const c = h.client()
  c.send({ kind: 'submit', tasks: [task(1)] })
  w1.link.take()
  w1.send({ kind: 'leaving', returned: ['c1:1'] })
  t.is(w1.session.state, 'leaving')
  t.deepEqual(w1.link.takeKind('assign'), [])
  const w2 = h.worker('w2')
  t.deepEqual(w2.link.takeKind('assign'), [{ kind: 'assign', tasks: [assigned('c1:1')] }])
  c.send({ kind: 'submit', tasks: [task(2)] })
  t.deepEqual(w1.link.takeKind('assign'), [], 'a leaving worker gets no new task')
  t.is(h.core.procs, 1, 'a leaving worker counts no processes')
})

test('a second hello closes the worker with 4400', (t) => {
  const h = testCore()
  const w = h.worker('w1')
  w.send({
    kind: 'hello',
    version: PROTOCOL_VERSION,
    role: 'worker',
    name: 'again',
    host: 'h',
    pid: 2,
    procs: 1,
    resources: {},
    memoryBytes: 1,
    versions: { node: '20', clusterpool: 'x' },
  })
  t.deepEqual(w.link.closedWith, { code: 4400, reason: 'hello was already received' })
})

test('a worker that closes: its running task runs elsewhere, clients hear the new size', (t) => {
  const h = testCore()
  const w1 = h.worker('w1')
  const c = h.client()
  c.send({ kind: 'submit', tasks: [task(1)] })
  const w2 = h.worker('w2')
  c.link.take()
  w2.link.take()
  h.core.onWorkerClosed(w1.session)
  t.is(w1.session.state, 'gone')
  t.deepEqual(w2.link.take(), [{ kind: 'assign', tasks: [assigned('c1:1')] }])
  t.deepEqual(c.link.take(), [{ kind: 'cluster', workers: 1, procs: 1 }])
  w2.send(result('c1:1', new Uint8Array([2])))
  t.deepEqual(c.link.take(), [{ kind: 'results', items: [{ id: 1, value: new Uint8Array([2]) }] }])
})

test('tick: a worker silent past workerTimeoutMs is closed with 4408 and its task rescheduled', (t) => {
  const h = testCore({ workerTimeoutMs: 1000 })
  const w1 = h.worker('w1')
  const w2 = h.worker('w2')
  const c = h.client()
  c.send({ kind: 'submit', tasks: [task(1)] })
  const first = [w1, w2].find((w) => w.link.takeKind('assign').length > 0)!
  const other = first === w1 ? w2 : w1
  first.session.lastHeartbeat = Date.now() - 5000
  other.link.take()
  h.core.tick()
  t.deepEqual(first.link.closedWith, { code: 4408, reason: 'missed heartbeats' })
  t.is(h.core.workerCount, 1)
  t.deepEqual(other.link.take(), [{ kind: 'assign', tasks: [assigned('c1:1')] }])
})

test('tick: after a stall of this process, silence is judged on the next timely tick', async (t) => {
  const h = testCore({ workerTimeoutMs: 1000 })
  const w = h.worker('w1')
  w.session.lastHeartbeat = Date.now() - 5000
  // The process was busy for over a second: this tick is late, and the worker's heartbeats may
  // be waiting unread in its socket.
  await new Promise((resolve) => setTimeout(resolve, 1100))
  h.core.tick()
  t.is(h.core.workerCount, 1, 'not judged on the late tick')
  t.is(w.link.closedWith, undefined)
  h.core.tick()
  t.deepEqual(w.link.closedWith, { code: 4408, reason: 'missed heartbeats' })
  t.is(h.core.workerCount, 0)
})
