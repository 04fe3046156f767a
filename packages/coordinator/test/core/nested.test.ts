// Tasks that submit tasks, through CoordinatorCore: a running task's executor speaks the
// client protocol inside `nested` items of its worker's connection. No sockets: the worker's
// link is a Recorder, and its frames are decoded here.
import {
  Direction,
  SELF_ID,
  createDecoder,
  createEncoder,
  decodeFrame,
  encodeFrame,
  type ClientToCoordinator,
  type CoordinatorToClient,
} from '@clusterpool/protocol'
import test from 'ava'

import { errorsIn, result, task, testCore, type FakeWorker } from './harness.js'

const encoder = createEncoder()
const decoder = createDecoder()

/** One frame from the executor of task `key`, as its worker forwards it. */
function fromTask(w: FakeWorker, key: string, ...messages: ClientToCoordinator[]): void {
  w.send({ kind: 'nested', items: [{ key, payload: encodeFrame(encoder, messages) }] })
}

/** What the coordinator sent to the executor of task `key` (the outbox flushes per tick). */
async function toTask(w: FakeWorker, key: string): Promise<CoordinatorToClient[]> {
  await new Promise((resolve) => setImmediate(resolve))
  const out: CoordinatorToClient[] = []
  for (const m of w.link.takeKind('nested')) {
    for (const item of m.items) {
      if (item.key !== key) continue
      const decoded = decodeFrame(decoder, item.payload, Direction.COORDINATOR_TO_CLIENT)
      if (!decoded.ok) throw decoded.error
      out.push(...decoded.messages)
    }
  }
  return out
}

function setUp(options: { maxDescendants?: number } = {}) {
  const h = testCore(options)
  const w = h.worker('w1', { procs: 1 })
  const c = h.client()
  c.send({ kind: 'submit', tasks: [task(1)] })
  const parent = c.key(1)
  w.link.take()
  w.send({ kind: 'heartbeat', running: 1, queued: 0, cpu: 1, memoryRss: 1, heldBytes: 0 })
  return { h, w, c, parent }
}

test('a task waiting for its child frees its slot; the child result goes to the task', async (t) => {
  const { h, w, parent } = setUp()
  fromTask(w, parent, { kind: 'submit', tasks: [task(1)] })
  const child = `${parent}/1:1`
  t.is(h.core.scheduler.task(child)?.state, 'queued', 'no slot while the parent runs')
  t.is(h.core.scheduler.task(child)?.priority, 0.001, "the parent's priority, a little higher")
  w.send({ kind: 'seceded', keys: [parent] })
  t.deepEqual(
    w.link.takeKind('assign').flatMap((m) => m.tasks.map((x) => x.key)),
    [child],
    'the seceded slot runs the child',
  )
  w.send(result(child, new Uint8Array([0x2a])))
  const heard = await toTask(w, parent)
  t.deepEqual(
    heard.filter((m) => m.kind === 'results'),
    [{ kind: 'results', items: [{ id: 1, value: new Uint8Array([0x2a]) }] }],
  )
})

test('an await that closes a cycle is answered with DeadlockError; the task itself is unchanged', async (t) => {
  const { h, w, parent } = setUp()
  // The child depends on the parent's own future (SELF_ID), and the parent awaits the child.
  fromTask(w, parent, { kind: 'submit', tasks: [task(1, { deps: [SELF_ID] })] })
  fromTask(w, parent, { kind: 'await', ids: [1] })
  const errors = errorsIn(await toTask(w, parent))
  t.is(errors.length, 1)
  t.like(errors[0], { id: 1, name: 'DeadlockError', code: 'CP_ERR_DEADLOCK' })
  t.regex(errors[0]!.message, new RegExp(`${parent}.*depends on`))
  t.is(h.core.scheduler.task(parent)?.state, 'processing')
})

test('when the task ends, its unfinished children are released and stop', async (t) => {
  const { h, w, parent } = setUp()
  fromTask(w, parent, { kind: 'submit', tasks: [task(1), task(2)] })
  const [c1, c2] = [`${parent}/1:1`, `${parent}/1:2`]
  t.is(h.core.scheduler.task(c1)?.state, 'queued')
  w.send(result(parent, new Uint8Array([0xc0])))
  t.is(h.core.scheduler.task(c1), undefined, 'forgotten')
  t.is(h.core.scheduler.task(c2), undefined)
  // Later frames of the ended run are not heard.
  fromTask(w, parent, { kind: 'submit', tasks: [task(3)] })
  t.is(h.core.scheduler.task(`${parent}/1:3`), undefined)
})

test('children that depend on each other are released together when their parent ends', async (t) => {
  const { h, w, parent } = setUp()
  fromTask(w, parent, { kind: 'submit', tasks: [task(1), task(2, { deps: [1] })] })
  const [c1, c2] = [`${parent}/1:1`, `${parent}/1:2`]
  t.is(h.core.scheduler.task(c2)?.state, 'waiting')
  w.send(result(parent, new Uint8Array([0xc0])))
  // c1 is needed only by c2, which nobody wants any more: neither runs.
  t.is(h.core.scheduler.task(c1), undefined)
  t.is(h.core.scheduler.task(c2), undefined)
  t.deepEqual(w.link.takeKind('assign'), [])
})

test('past maxDescendants, a submit fails with DescendantLimitError; the cluster goes on', async (t) => {
  const { h, w, c, parent } = setUp({ maxDescendants: 2 })
  fromTask(w, parent, { kind: 'submit', tasks: [task(1), task(2), task(3)] })
  const errors = errorsIn(await toTask(w, parent))
  t.deepEqual(
    errors.map((e) => [e.id, e.name]),
    [[3, 'DescendantLimitError']],
  )
  c.send({ kind: 'submit', tasks: [task(2)] })
  t.is(h.core.scheduler.task(c.key(2))?.state, 'queued')
})

test('a worker speaking for a task it does not run is not heard', async (t) => {
  const { h, parent } = setUp()
  const liar = h.worker('liar', { procs: 1 })
  fromTask(liar, parent, { kind: 'submit', tasks: [task(1)] })
  t.is(h.core.scheduler.task(`${parent}/1:1`), undefined)
  t.is(liar.session.violations, 1)
  liar.send({ kind: 'seceded', keys: [parent] })
  t.is(liar.session.violations, 2)
  t.is(h.core.scheduler.workers().find((x) => x.name === 'w1')?.seceded, 0)
})

test('a malformed frame from a task is dropped; nothing else changes', async (t) => {
  const { h, w, parent } = setUp()
  w.send({ kind: 'nested', items: [{ key: parent, payload: new Uint8Array([0xc1, 0xff]) }] })
  t.is(h.core.scheduler.task(parent)?.state, 'processing')
  t.is(w.session.state, 'running')
  fromTask(w, parent, { kind: 'submit', tasks: [task(1)] })
  t.is(h.core.scheduler.task(`${parent}/1:1`)?.state, 'queued')
})

test('a client that sends await is closed: only tasks wait inside the cluster', (t) => {
  const { c } = setUp()
  c.send({ kind: 'await', ids: [1] })
  t.is(c.link.closedWith?.code, 4400)
})
