// Held and relayed data: results over holdResultsOverBytes stay on their worker, and a task
// whose inputs live on other workers waits for the relay before it is assigned.
import test from 'ava'

import { ARGS, F, result, task, testCore, type TestCore } from './harness.js'

const BIG = 100_000
const big = (fill: number): Uint8Array => new Uint8Array(BIG).fill(fill)

/** Task 1 ran on w1 (host a) and holds a big result there; w2 (host b) is up too. */
function heldOnW1(): ReturnType<typeof setup> {
  const s = setup()
  s.c.send({ kind: 'submit', tasks: [task(1, { opts: { workers: ['a'] } })] })
  s.w1.send(result('c1:1', undefined, BIG))
  s.w1.link.take()
  s.w2.link.take()
  s.c.link.take()
  return s
}

function setup(): TestCore & {
  c: ReturnType<TestCore['client']>
  w1: ReturnType<TestCore['worker']>
  w2: ReturnType<TestCore['worker']>
} {
  const h = testCore({ holdResultsOverBytes: 65_536 })
  const c = h.client()
  const w1 = h.worker('w1', { host: 'a' })
  const w2 = h.worker('w2', { host: 'b' })
  for (const link of [c.link, w1.link, w2.link]) link.take() // welcomes and cluster sizes
  return { ...h, c, w1, w2 }
}

/** Task 2 needs task 1 and may run only on host b. */
const dependent = task(2, { deps: [1], opts: { workers: ['b'] } })
const dependentAssign = (value: Uint8Array, attempt = 1) => ({
  key: 'c1:2',
  fn: F,
  args: ARGS,
  attempt,
  deps: [{ id: 1, key: 'c1:1', value, keep: true }],
  opts: { workers: ['b'] },
})

test('a result over holdResultsOverBytes stays on its worker: the client hears its size', (t) => {
  const s = setup()
  s.c.send({ kind: 'submit', tasks: [task(1, { opts: { workers: ['a'] } })] })
  s.c.link.take()
  t.is(s.w1.link.takeKind('assign').length, 1)
  s.w1.send(result('c1:1', undefined, BIG))
  t.deepEqual(s.c.link.take(), [{ kind: 'results', items: [{ id: 1, held: BIG }] }])
  t.deepEqual(s.core.scheduler.whoHas('c1:1'), ['w1'])
  t.deepEqual(s.w1.link.take(), [], 'no fetch until someone wants it')
})

test('a small result travels inline: a dependent on another worker gets it inside assign', (t) => {
  const s = setup()
  s.c.send({ kind: 'submit', tasks: [task(1, { opts: { workers: ['a'] } })] })
  s.w1.send(result('c1:1', new Uint8Array([4, 2])))
  s.w1.link.take()
  s.c.send({ kind: 'submit', tasks: [dependent] })
  t.deepEqual(s.w1.link.take(), [], 'nothing to fetch')
  t.deepEqual(s.w2.link.take(), [
    {
      kind: 'assign',
      tasks: [
        {
          ...dependentAssign(new Uint8Array([4, 2])),
          deps: [{ id: 1, key: 'c1:1', value: new Uint8Array([4, 2]) }],
        },
      ],
    },
  ])
})

test('a dependent on another worker: the input is fetched from its holder, and the assign waits for it', (t) => {
  const s = heldOnW1()
  s.c.send({ kind: 'submit', tasks: [dependent] })
  t.deepEqual(s.w1.link.take(), [{ kind: 'fetch', keys: ['c1:1'] }])
  t.deepEqual(s.w2.link.take(), [], 'the assign waits for the relayed input')
  t.deepEqual(s.c.link.take(), [{ kind: 'running', ids: [2] }])
  const value = big(1)
  s.w1.send({ kind: 'data', items: [{ key: 'c1:1', value }] })
  t.deepEqual(s.w2.link.take(), [{ kind: 'assign', tasks: [dependentAssign(value)] }])
  t.deepEqual(s.core.scheduler.whoHas('c1:1'), ['w1', 'w2'], 'w2 keeps a replica')
  t.deepEqual(s.core.transfers, { values: 1, bytes: BIG })
  s.w2.send(result('c1:2', new Uint8Array([9])))
  t.deepEqual(s.c.link.take(), [
    { kind: 'results', items: [{ id: 2, value: new Uint8Array([9]) }] },
  ])
})

test('cancel of a task waiting for relayed inputs: nothing reaches the worker, the client hears an AbortedError', (t) => {
  const s = heldOnW1()
  s.c.send({ kind: 'submit', tasks: [dependent] })
  s.w1.link.take()
  s.c.link.take()
  s.c.send({ kind: 'cancel', ids: [2] })
  const [m] = s.c.link.take()
  t.is(m?.kind, 'errors')
  t.like(m?.kind === 'errors' ? m.items[0] : undefined, {
    id: 2,
    error: { name: 'AbortedError', code: 'CP_ERR_ABORTED' },
  })
  s.w1.send({ kind: 'data', items: [{ key: 'c1:1', value: big(1) }] })
  t.deepEqual(s.w2.link.take(), [], 'the late input sends nothing')
})

test('a worker lost while its task waits for relayed inputs: the task waits for another worker, and fetches again', (t) => {
  const s = heldOnW1()
  s.c.send({ kind: 'submit', tasks: [dependent] })
  t.deepEqual(s.c.link.take(), [{ kind: 'running', ids: [2] }])
  t.deepEqual(s.w1.link.take(), [{ kind: 'fetch', keys: ['c1:1'] }])
  s.core.onWorkerClosed(s.w2.session)
  s.w1.send({ kind: 'data', items: [{ key: 'c1:1', value: big(1) }] })
  t.deepEqual(s.w1.link.take(), [], 'nothing for the gone worker')
  t.is(s.core.scheduler.task('c1:2')?.state, 'queued', 'no worker on host b')
  const w3 = s.worker('w3', { host: 'b' })
  w3.link.take()
  t.deepEqual(s.w1.link.take(), [{ kind: 'fetch', keys: ['c1:1'] }])
  const value = big(2)
  s.w1.send({ kind: 'data', items: [{ key: 'c1:1', value }] })
  t.deepEqual(w3.link.take(), [{ kind: 'assign', tasks: [dependentAssign(value)] }])
  t.deepEqual(s.c.link.takeKind('running'), [], 'announced once')
})

test('an input its holder no longer has: the task goes back to the scheduler, and fetches again', (t) => {
  const s = heldOnW1()
  s.c.send({ kind: 'submit', tasks: [dependent] })
  t.deepEqual(s.w1.link.take(), [{ kind: 'fetch', keys: ['c1:1'] }])
  s.w1.send({ kind: 'data', items: [], missing: ['c1:1'] })
  t.deepEqual(s.w2.link.take(), [])
  // The scheduler still places c1:1 on w1 (nothing says it is lost), so the next try fetches again.
  t.deepEqual(s.w1.link.take(), [{ kind: 'fetch', keys: ['c1:1'] }])
  const value = big(3)
  s.w1.send({ kind: 'data', items: [{ key: 'c1:1', value }] })
  t.deepEqual(s.w2.link.take(), [{ kind: 'assign', tasks: [dependentAssign(value)] }])
})

test('the holder lost while a dependent waits for its input: the input is computed again, then the dependent runs', (t) => {
  const s = heldOnW1()
  // Task 1 may run on host a only: a second worker there computes it again.
  const w3 = s.worker('w3', { host: 'a' })
  w3.link.take()
  s.c.send({ kind: 'submit', tasks: [dependent] })
  s.w1.link.take()
  s.core.onWorkerClosed(s.w1.session)
  t.deepEqual(
    w3.link.takeKind('assign').flatMap((m) => m.tasks.map((x) => [x.key, x.attempt])),
    [['c1:1', 1]],
    'task 1 is computed again',
  )
  t.deepEqual(s.w2.link.take(), [])
  w3.send(result('c1:1', undefined, BIG))
  t.deepEqual(w3.link.take(), [{ kind: 'fetch', keys: ['c1:1'] }])
  const value = big(4)
  w3.send({ kind: 'data', items: [{ key: 'c1:1', value }] })
  t.deepEqual(s.w2.link.take(), [{ kind: 'assign', tasks: [dependentAssign(value)] }])
  t.deepEqual(s.c.link.takeKind('results'), [], 'the client was told of task 1 once')
})

test('gather of a held result being computed again: the value goes out when it is back', (t) => {
  const s = heldOnW1()
  const w3 = s.worker('w3', { host: 'a' })
  w3.link.take()
  s.core.onWorkerClosed(s.w1.session)
  t.is(w3.link.takeKind('assign').length, 1)
  s.c.link.take()
  s.c.send({ kind: 'gather', ids: [1] })
  t.deepEqual(s.c.link.take(), [], 'regathering')
  w3.send(result('c1:1', undefined, BIG))
  t.deepEqual(w3.link.take(), [{ kind: 'fetch', keys: ['c1:1'] }])
  const value = big(5)
  w3.send({ kind: 'data', items: [{ key: 'c1:1', value }] })
  t.deepEqual(s.c.link.take(), [{ kind: 'results', items: [{ id: 1, value }] }])
})
