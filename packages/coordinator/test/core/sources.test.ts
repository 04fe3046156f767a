// Verify what you cache (issue 15, reproductions 3 and 4): function sources are kept under
// their own hash, held by live tasks and by the clients that sent them, and released.
import { sourceHash, type SourceFnRef } from '@clusterpool/protocol'
import test from 'ava'

import { MAX_SOURCES_PER_CLIENT } from '../../src/core/client-role.js'
import { errorsIn, result, task, testCore } from './harness.js'

function source(text: string, name = 'f'): SourceFnRef {
  return { kind: 'source', hash: sourceHash(text), source: text, name }
}

test('a source that does not match its hash fails only its task; the honest one keeps running', (t) => {
  const h = testCore()
  const w = h.worker('w1', { procs: 4 })
  const honest = h.client('honest')
  const attacker = h.client('attacker')
  const fn = source('(x) => x * 2', 'double')
  honest.send({ kind: 'submit', tasks: [task(1, { fn })] })
  attacker.send({ kind: 'submit', tasks: [task(1, { fn: { ...fn, source: '(x) => -777' } })] })
  t.deepEqual(errorsIn(attacker.link.take()), [
    {
      id: 1,
      name: 'InvalidTaskError',
      code: 'CP_ERR_INVALID_TASK',
      message:
        `the source sent for function double does not match its hash ${fn.hash}: ` +
        'a function is named by the hash of its own source',
    },
  ])
  honest.send({
    kind: 'submit',
    tasks: [task(2, { fn: { kind: 'source', hash: fn.hash, name: 'double' } })],
  })
  w.send(result(honest.key(1), new Uint8Array([1])))
  const sent = w.link.takeKind('assign').flatMap((m) => m.tasks.map((x) => x.fn))
  t.deepEqual(sent, [fn, { kind: 'source', hash: fn.hash, name: 'double' }])
  t.is(h.core.totals.submitted, 2, 'nothing else happened')
})

test('a client holds the sources it sent until it disconnects; then only the idle LRU is left', (t) => {
  const h = testCore()
  const c = h.client()
  const big = 'x'.repeat(200_000)
  const tasks = Array.from({ length: 300 }, (_, i) =>
    // Refused after the source is taken: an unknown dependency, like the reproduction.
    task(i + 1, { fn: source(`() => ${i} // ${big}`), deps: [9999] }),
  )
  c.send({ kind: 'submit', tasks })
  const errors = errorsIn(c.link.take())
  t.is(errors.length, 300)
  t.is(errors.filter((e) => e.name === 'DependencyError').length, MAX_SOURCES_PER_CLIENT)
  const over = errors.filter((e) => e.name === 'InvalidTaskError')
  t.is(over.length, 300 - MAX_SOURCES_PER_CLIENT)
  t.regex(over[0]!.message, /more than 128 distinct function sources/)
  t.is(h.core.sources.size, MAX_SOURCES_PER_CLIENT)
  t.is(h.core.sources.idleSize, 0, 'all held by the client')
  h.core.onClientClosed(c.session)
  t.true(h.core.sources.bytes <= 16 * 2 ** 20, 'within the idle LRU bound')
  t.true(h.core.sources.size < MAX_SOURCES_PER_CLIENT)
})

test('a task holds its source: another client’s task keeps it after the sender leaves', (t) => {
  const h = testCore()
  const w = h.worker('w1')
  const sender = h.client('sender')
  const user = h.client('user')
  const fn = source('(x) => x + 1')
  sender.send({ kind: 'submit', tasks: [task(1, { fn })] })
  w.send(result(sender.key(1), new Uint8Array([1])))
  user.send({
    kind: 'submit',
    tasks: [task(1, { fn: { kind: 'source', hash: fn.hash, name: fn.name } })],
  })
  h.core.onClientClosed(sender.session)
  t.is(h.core.sources.idleSize, 0, 'the user’s task still holds it')
  w.send(result(user.key(1), new Uint8Array([2])))
  user.send({ kind: 'release', ids: [1] })
  t.is(h.core.sources.idleSize, 1, 'idle once the task is forgotten')
})
