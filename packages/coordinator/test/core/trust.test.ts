// Believe only what was assigned (issue 15, reproductions 1 and 2): results, errors, held-size
// reports, steal replies and data are taken only from the worker the coordinator asked.
import test from 'ava'

import { MAX_WORKER_VIOLATIONS } from '../../src/core/worker-role.js'
import { failure, result, task, testCore } from './harness.js'

const FAKE = new Uint8Array([0xaa, 0x46, 0x41, 0x4b, 0x45]) // msgpack 'FAKE'
const REAL = new Uint8Array([0x2a]) // msgpack 42

/** Task 1 of client `c`, assigned to `holder`; `liar` is the other worker. */
function oneTaskTwoWorkers() {
  const h = testCore()
  const c = h.client()
  const w1 = h.worker('w1')
  const w2 = h.worker('w2')
  c.send({ kind: 'submit', tasks: [task(1)] })
  const [holder, liar] = w1.link.takeKind('assign').length > 0 ? [w1, w2] : [w2, w1]
  return { h, c, holder, liar }
}

test('a result from a worker that was never assigned the task is dropped; the real one counts', (t) => {
  const { h, c, holder, liar } = oneTaskTwoWorkers()
  c.link.take()
  liar.send({ kind: 'results', items: [{ key: c.key(1), value: FAKE, size: 5, durationMs: 1 }] })
  liar.send(failure(c.key(1), 'fake error'))
  t.deepEqual(c.link.take(), [], 'the client hears nothing of the lies')
  t.is(liar.session.violations, 2)
  t.is(h.core.scheduler.task(c.key(1))?.state, 'processing')
  holder.send(result(c.key(1), REAL))
  t.deepEqual(c.link.take(), [{ kind: 'results', items: [{ id: 1, value: REAL }] }])
  t.is(holder.session.violations, 0)
  // A second report, even from the worker that ran it, is not asked for either.
  holder.send(result(c.key(1), FAKE))
  t.deepEqual(c.link.take(), [])
  t.is(holder.session.violations, 1)
})

test('a held-size report from a stranger records no replica: the holder’s loss recomputes the task', (t) => {
  const h = testCore({ holdResultsOverBytes: 1000 })
  const c = h.client()
  const w1 = h.worker('w1', { host: 'a' })
  const w2 = h.worker('w2', { host: 'b' })
  c.send({ kind: 'submit', tasks: [task(1, { opts: { workers: ['a'] } })] })
  w1.send(result(c.key(1), undefined, 5000))
  t.deepEqual(c.link.take().at(-1), { kind: 'results', items: [{ id: 1, held: 5000 }] })
  w2.send(result(c.key(1), undefined, 5000))
  t.deepEqual(h.core.scheduler.whoHas(c.key(1)), ['w1'], 'no replica on w2')
  t.is(w2.session.violations, 1)
  h.core.onWorkerClosed(w1.session)
  t.not(h.core.scheduler.task(c.key(1))?.state, 'memory', 'lost with w1, not kept on w2')
  // Data w2 was never asked for is not relayed to the client either.
  c.send({ kind: 'gather', ids: [1] })
  w2.send({ kind: 'data', items: [{ key: c.key(1), value: FAKE }] })
  t.false(
    c.link.take().some((m) => m.kind === 'results'),
    'the client gets no fake value',
  )
  t.is(w2.session.violations, 2)
})

test('a steal reply from a worker that does not hold the task is dropped, and is no violation', (t) => {
  // An honest worker may answer a steal after the task ended or moved (it finished the task
  // before it read the steal): such a reply changes nothing, and counting it would close
  // honest workers for a race.
  const { h, c, holder, liar } = oneTaskTwoWorkers()
  liar.send({ kind: 'stealReply', given: [c.key(1)], kept: [] })
  t.is(liar.session.violations, 0)
  t.is(h.core.scheduler.task(c.key(1))?.workerId, holder.id)
})

test(`a worker is closed with 4400 after ${MAX_WORKER_VIOLATIONS} violations; its task runs elsewhere`, (t) => {
  const h = testCore()
  const c = h.client()
  const w1 = h.worker('w1')
  c.send({ kind: 'submit', tasks: [task(1)] })
  const w2 = h.worker('w2')
  const items = Array.from({ length: MAX_WORKER_VIOLATIONS + 1 }, (_, i) => ({
    key: `c1:${100 + i}`,
    value: FAKE,
    size: 5,
    durationMs: 1,
  }))
  w1.send({ kind: 'results', items })
  t.deepEqual(w1.link.closedWith?.code, 4400)
  t.is(h.core.workerCount, 1)
  t.is(w2.link.takeKind('assign').at(-1)?.tasks[0]?.key, c.key(1), 'rescheduled on w2')
})

test('a leaving worker that names another worker’s task as returned does not move it', (t) => {
  const { h, c, holder, liar } = oneTaskTwoWorkers()
  liar.send({ kind: 'leaving', returned: [c.key(1)] })
  t.is(h.core.scheduler.task(c.key(1))?.workerId, holder.id)
  t.is(h.core.scheduler.task(c.key(1))?.state, 'processing')
})
