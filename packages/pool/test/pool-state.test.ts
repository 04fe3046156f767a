// TaskPool's own state (open → closing | forced-closing → closed), the pids it reports, and
// its children's states.
import test from 'ava'

import { ExecutorShutdownError, InvalidStateError } from '@clusterpool/protocol'

import { ToChildKind, type ToChild } from '../src/messages.js'
import { CHILD_TRANSITIONS, ChildSlot, ChildState } from '../src/runtime/child-slot.js'
import type { ChildHandle } from '../src/runtime/child-handle.js'
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

/** A child slot over a handle that records what it was asked. */
function slot(): { child: ChildSlot; sent: (readonly ToChild[])[]; kills: number[] } {
  const sent: (readonly ToChild[])[] = []
  const kills: number[] = []
  const handle: ChildHandle = {
    kind: 'process',
    pid: 4242,
    threadId: undefined,
    send: (messages) => sent.push(messages),
    kill: () => kills.push(1),
    setRef: () => {},
  }
  return {
    child: new ChildSlot(
      () => handle,
      () => {},
    ),
    sent,
    kills,
  }
}

test('child slots: every move follows CHILD_TRANSITIONS; an illegal one throws', (t) => {
  // Written out rather than derived from the table, so that an edit has to be made twice.
  const legal: Record<keyof typeof CHILD_TRANSITIONS, string[]> = {
    retire: ['active'],
    stop: ['active', 'retiring'],
    kill: ['active', 'retiring', 'stopping'],
    exit: ['active', 'retiring', 'stopping', 'killed'],
  }
  // A route from `active` to each state, through the slot's own methods.
  const reach: Record<ChildState, (c: ChildSlot) => void> = {
    active: () => {},
    retiring: (c) => c.retire(),
    stopping: (c) => c.stop(),
    killed: (c) => c.kill(),
    exited: (c) => c.exited(),
  }
  const moves: Record<keyof typeof CHILD_TRANSITIONS, (c: ChildSlot) => void> = {
    retire: (c) => c.retire(),
    stop: (c) => c.stop(),
    kill: (c) => c.kill(),
    exit: (c) => c.exited(),
  }
  for (const name of Object.keys(CHILD_TRANSITIONS) as (keyof typeof CHILD_TRANSITIONS)[]) {
    for (const from of Object.values(ChildState)) {
      const { child } = slot()
      reach[from](child)
      t.is(child.state, from)
      if (legal[name].includes(from)) {
        moves[name](child)
        t.is<string, string>(child.state, CHILD_TRANSITIONS[name].to, `${name} from ${from}`)
      } else {
        t.throws(() => moves[name](child), {
          instanceOf: InvalidStateError,
          message: `child 4242 cannot ${name} from ${from}`,
        })
        t.is(child.state, from, `${name} from ${from} leaves it as it was`)
      }
    }
  }
  const { child, sent, kills } = slot()
  child.stop()
  t.true(child.flush())
  t.deepEqual(sent, [[[ToChildKind.STOP]]])
  child.kill()
  t.deepEqual(kills, [1])
})
