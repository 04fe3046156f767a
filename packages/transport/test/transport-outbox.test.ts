// When the outbox flushes: urgent messages at the end of the task (idle link) or on the next turn
// (busy link), lazy ones (`running`, `release`) with the next urgent one or after a short delay;
// and how items join queued messages.
import { setImmediate as nextTurn, setTimeout as sleep } from 'node:timers/promises'

import type { Message } from '@clusterpool/protocol'
import test from 'ava'

import { Outbox } from '../src/outbox.js'

/** An outbox whose flushes are recorded: each flush is the list of messages it took. */
function recorded(): { outbox: Outbox<Message>; flushes: unknown[][] } {
  const flushes: unknown[][] = []
  const outbox: Outbox<Message> = new Outbox<Message>(() => flushes.push(outbox.take()))
  return { outbox, flushes }
}

test('an urgent message on an idle link leaves at the end of the current task', async (t) => {
  const { outbox, flushes } = recorded()
  outbox.pushItem('submit', 'tasks', 1)
  outbox.pushItem('submit', 'tasks', 2)
  t.is(flushes.length, 0, 'not synchronously')
  await Promise.resolve()
  t.deepEqual(flushes, [[{ kind: 'submit', tasks: [1, 2] }]])
})

test('what is queued after a flush leaves in a flush of its own, by the next turn of the loop', async (t) => {
  const { outbox, flushes } = recorded()
  outbox.pushItem('results', 'items', 1)
  await Promise.resolve()
  // The link is busy now: this flush may wait for the next turn (how soon is a heuristic).
  outbox.pushItem('results', 'items', 2)
  await nextTurn()
  t.deepEqual(flushes, [[{ kind: 'results', items: [1] }], [{ kind: 'results', items: [2] }]])
})

test('lazy messages ride with the next urgent message, in order', async (t) => {
  const { outbox, flushes } = recorded()
  outbox.pushItem('release', 'ids', 7)
  await Promise.resolve()
  t.is(flushes.length, 0, 'a lazy message alone does not take a frame at once')
  outbox.pushItem('submit', 'tasks', 8)
  await Promise.resolve()
  t.deepEqual(flushes, [
    [
      { kind: 'release', ids: [7] },
      { kind: 'submit', tasks: [8] },
    ],
  ])
  await sleep(20)
  t.is(flushes.length, 1, 'and the lazy timer finds nothing left to send')
})

test('lazy messages alone leave after a short delay', async (t) => {
  const { outbox, flushes } = recorded()
  outbox.push({ kind: 'release', ids: [1] })
  await sleep(50)
  t.deepEqual(flushes, [[{ kind: 'release', ids: [1] }]])
})

test('running items join the queued running message; other kinds keep their order', async (t) => {
  const { outbox, flushes } = recorded()
  outbox.pushItem('results', 'items', 'r1')
  outbox.pushItem('running', 'ids', 2)
  outbox.pushItem('results', 'items', 'r3')
  outbox.pushItem('running', 'ids', 4)
  outbox.pushItem('errors', 'items', 'e5')
  outbox.pushItem('results', 'items', 'r6')
  await Promise.resolve()
  t.deepEqual(flushes, [
    [
      { kind: 'results', items: ['r1'] },
      { kind: 'running', ids: [2, 4] },
      { kind: 'results', items: ['r3'] },
      { kind: 'errors', items: ['e5'] },
      { kind: 'results', items: ['r6'] },
    ],
  ])
})

test('clear drops what is queued and any pending lazy flush', async (t) => {
  const { outbox, flushes } = recorded()
  outbox.pushItem('running', 'ids', 1)
  outbox.clear()
  await sleep(20)
  t.deepEqual(flushes, [])
  t.is(outbox.size, 0)
})
