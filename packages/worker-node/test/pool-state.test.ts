// TaskPool's own state: open → closing | forced-closing → closed, and the pids it reports.
import test from 'ava'

import { ExecutorShutdownError } from '@clusterpool/protocol'

import { PoolHarness, errorOf, sleep, valueOf } from './fixtures/pool-harness.js'

test('close(): open → closing → closed; a later force changes nothing', async (t) => {
  const h = new PoolHarness({ kind: 'thread', maxWorkers: 1 })
  t.is(h.pool.state, 'open')
  const slow = h.run(async () => new Promise((resolve) => setTimeout(() => resolve(1), 100)))
  await sleep(20)
  const closed = h.pool.close()
  t.is(h.pool.state, 'closing')
  t.throws(() => h.run(() => 2), { instanceOf: ExecutorShutdownError })
  t.is(valueOf(await slow.outcome), 1) // a graceful close runs what it holds
  await closed
  t.is(h.pool.state, 'closed')
  await h.pool.close({ force: true })
  t.is(h.pool.state, 'closed')
  t.deepEqual(h.violations, [])
})

test('close({ force }): from open or closing to forced-closing, then closed', async (t) => {
  for (const first of ['none', 'graceful'] as const) {
    const h = new PoolHarness({ kind: 'thread', maxWorkers: 1 })
    const stuck = h.run(async () => new Promise(() => {}))
    await sleep(20)
    if (first === 'graceful') void h.pool.close()
    const closed = h.pool.close({ force: true })
    t.is(h.pool.state, 'forced-closing', first)
    t.is(errorOf(await stuck.outcome).name, 'WorkerDiedError', first)
    await closed
    t.is(h.pool.state, 'closed', first)
    t.deepEqual(h.violations, [])
  }
})

test('childPids: the live child processes, none for a thread pool', async (t) => {
  const p = new PoolHarness({ kind: 'process', maxWorkers: 2 })
  await Promise.all([p.run(() => 1).outcome, p.run(() => 2).outcome])
  t.deepEqual(p.pool.childPids().sort(), p.childPids().sort())
  t.is(p.pool.childPids().length, 2)
  await p.pool.close()
  t.deepEqual(p.pool.childPids(), [])
  const th = new PoolHarness({ kind: 'thread', maxWorkers: 1 })
  t.is(valueOf(await th.run(() => 3).outcome), 3)
  t.deepEqual(th.pool.childPids(), [])
  await th.pool.close()
})
