// Bound every amplification (issue 15, reproductions 8 and 9): repeated gather ids and
// dependencies cost once, both are capped, and gather answers wait for the link to drain.
import { MessageLimits } from '@clusterpool/protocol'
import test from 'ava'

import { GATHER_HIGH_WATER_BYTES } from '../../src/core/gather-queue.js'
import { errorsIn, result, task, testCore } from './harness.js'

const MiB = 2 ** 20

/** Client `c`'s task 1 finished on `w` with a 60 kB value, inline. */
function finished60kB() {
  const h = testCore()
  const w = h.worker('w1')
  const c = h.client()
  c.send({ kind: 'submit', tasks: [task(1)] })
  const value = new Uint8Array(60_000).fill(7)
  w.send(result(c.key(1), value))
  return { w, c, value }
}

test('gather of one id 3000 times sends its value once', (t) => {
  const { c, value } = finished60kB()
  c.link.take()
  c.send({ kind: 'gather', ids: Array.from({ length: 3000 }, () => 1) })
  t.deepEqual(c.link.take(), [{ kind: 'results', items: [{ id: 1, value }] }])
})

test('a dependency listed 1000 times is one input of the task', (t) => {
  const { w, c, value } = finished60kB()
  w.link.take()
  c.send({ kind: 'submit', tasks: [task(2, { deps: Array.from({ length: 1000 }, () => 1) })] })
  const [assign] = w.link.takeKind('assign')
  t.deepEqual(assign?.tasks[0]?.deps, [{ id: 1, key: c.key(1), value }])
})

test('a task over the dependency cap fails with InvalidTaskError', (t) => {
  const h = testCore()
  const c = h.client()
  c.link.take()
  const deps = Array.from({ length: MessageLimits.TASK_DEPS + 1 }, (_, i) => i + 10)
  c.send({ kind: 'submit', tasks: [task(1, { deps })] })
  t.deepEqual(errorsIn(c.link.take()), [
    {
      id: 1,
      name: 'InvalidTaskError',
      code: 'CP_ERR_INVALID_TASK',
      message:
        `task 1 has ${MessageLimits.TASK_DEPS + 1} distinct dependencies; at most ` +
        `${MessageLimits.TASK_DEPS} are allowed (fan in through a tree of tasks)`,
    },
  ])
})

test('a gather over the id cap is refused: the client is closed with 4400', (t) => {
  const h = testCore()
  const c = h.client()
  c.send({ kind: 'gather', ids: Array.from({ length: MessageLimits.GATHER_IDS + 1 }, (_, i) => i) })
  t.is(c.link.closedWith?.code, 4400)
  t.regex(c.link.closedWith?.reason ?? '', /at most 100000 distinct ids at once/)
})

test('gather answers stop at the high-water mark until the link drains', async (t) => {
  const h = testCore({ holdResultsOverBytes: 2 * MiB })
  const w = h.worker('w1', { procs: 40 })
  const c = h.client()
  const n = 40
  c.send({ kind: 'submit', tasks: Array.from({ length: n }, (_, i) => task(i + 1)) })
  for (let i = 1; i <= n; i++) w.send(result(c.key(i), new Uint8Array(MiB)))
  c.link.take()
  c.link.congestOnFlush = true
  c.send({ kind: 'gather', ids: Array.from({ length: n }, (_, i) => i + 1) })
  const perBatch = GATHER_HIGH_WATER_BYTES / MiB
  const answered = (): number =>
    c.link.take().reduce((k, m) => k + (m.kind === 'results' ? m.items.length : 0), 0)
  t.is(answered(), perBatch, 'one high-water mark of values, then it waits')
  t.is(answered(), 0)
  c.link.drain()
  await new Promise((resolve) => setImmediate(resolve))
  t.is(answered(), perBatch)
  c.link.drain()
  await new Promise((resolve) => setImmediate(resolve))
  t.is(answered(), n - 2 * perBatch)
})

test('many gather messages of one id in one frame send the value once; a later frame again', (t) => {
  const { c, value } = finished60kB()
  c.link.take()
  const many = Array.from({ length: 1000 }, () => ({ kind: 'gather' as const, ids: [1] }))
  c.send(...many)
  t.deepEqual(c.link.take(), [{ kind: 'results', items: [{ id: 1, value }] }])
  c.send({ kind: 'gather', ids: [1] })
  t.deepEqual(c.link.take(), [{ kind: 'results', items: [{ id: 1, value }] }])
})

test('a task that would take a client past maxClientHeldBytes fails; released tasks make room', (t) => {
  const h = testCore({ maxClientHeldBytes: 10_000 })
  const w = h.worker('w1')
  const c = h.client()
  const args = new Uint8Array(4000).fill(0x90)
  c.send({ kind: 'submit', tasks: [task(1, { args }), task(2, { args }), task(3, { args })] })
  t.is(c.session.heldBytes, 8000)
  const [refused] = errorsIn(c.link.take())
  t.like(refused, { id: 3, name: 'PayloadTooLargeError' })
  t.regex(refused!.message, /maxClientHeldBytes \(10000\)/)
  // The client still reads: it releases finished tasks, and then the same task fits.
  w.send(result(c.key(1), Uint8Array.of(1)))
  c.send({ kind: 'release', ids: [1] })
  t.is(c.session.heldBytes, 4000)
  c.send({ kind: 'submit', tasks: [task(4, { args })] })
  t.is(c.session.heldBytes, 8000)
  t.deepEqual(errorsIn(c.link.take()), [])
})

test('inline results and scattered values count toward maxClientHeldBytes until released or stored', (t) => {
  const h = testCore({ maxClientHeldBytes: 10_000 })
  const w = h.worker('w1')
  const c = h.client()
  c.send({ kind: 'submit', tasks: [task(1)] })
  const args = task(1).args.byteLength
  w.send(result(c.key(1), new Uint8Array(6000).fill(1)))
  t.is(c.session.heldBytes, args + 6000, 'the inline result is kept here for the client')
  c.send({ kind: 'scatter', items: [{ id: 2, value: new Uint8Array(5000).fill(2) }] })
  const [refused] = errorsIn(c.link.take())
  t.like(refused, { id: 2, name: 'PayloadTooLargeError' })
  c.send({ kind: 'release', ids: [1] })
  t.is(c.session.heldBytes, 0)
  c.send({ kind: 'scatter', items: [{ id: 3, value: new Uint8Array(5000).fill(3) }] })
  t.deepEqual(errorsIn(c.link.take()), [])
  // Stored on its worker, the scattered value is no longer kept here.
  t.is(c.session.heldBytes, 0)
})
