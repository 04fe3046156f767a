// Frames carry their `tasks` and `items` lists as rows (values/rows.ts): the messages that come
// out are the messages that went in, in fewer bytes, and a malformed rows payload is refused.
import test from 'ava'

import { decodeFrame, encodeFrame } from '../src/messages/frame.js'
import type { CoordinatorToClient, CoordinatorToWorker } from '../src/messages/index.js'
import { createDecoder, createEncoder } from '../src/values/codec.js'
import { ROWS_EXTENSION_TYPE } from '../src/values/rows.js'

const fn = { kind: 'source', hash: 'abcdefghijklmnopqrstuv', name: 'inc' } as const
const bytes = (...b: number[]): Buffer => Buffer.from(b)

function assign(n: number): CoordinatorToWorker[] {
  return [
    {
      kind: 'assign',
      tasks: Array.from({ length: n }, (_, i) =>
        i % 5 === 2
          ? {
              key: `c1:${i}`,
              fn: { ...fn, source: '(x) => x + 1' },
              args: bytes(0x91, i),
              attempt: 2,
              opts: { timeoutMs: 5 },
              chunk: true,
            }
          : { key: `c1:${i}`, fn, args: bytes(0x91, i), attempt: 1 },
      ),
    },
    { kind: 'release', keys: ['c1:0', 'c1:1'] },
  ]
}

test('a long list travels as rows and comes back equal, keys in order, without changing the input', (t) => {
  const messages = assign(40)
  const before = JSON.stringify(messages)
  const frame = encodeFrame(createEncoder(), messages)
  t.is(JSON.stringify(messages), before, 'the messages given are not changed')
  const plain = createEncoder().encode(messages)
  t.true(frame.byteLength < plain.byteLength / 2, `${frame.byteLength} vs ${plain.byteLength}`)
  const decoded = decodeFrame(createDecoder(), frame, 'coordinator->worker')
  if (!decoded.ok) return t.fail(decoded.error.message)
  t.deepEqual(decoded.messages, messages)
  const [first] = decoded.messages as [Extract<CoordinatorToWorker, { kind: 'assign' }>]
  t.deepEqual(Object.keys(first.tasks[2]!), ['key', 'fn', 'args', 'attempt', 'opts', 'chunk'])
  t.deepEqual(Object.keys(first.tasks[3]!), ['key', 'fn', 'args', 'attempt'])
  t.true(Buffer.isBuffer(first.tasks[3]!.args))
  // One fn object on the way out is one object on the way in; distinct ones stay distinct.
  t.is(first.tasks[0]!.fn, first.tasks[1]!.fn)
  t.not(first.tasks[2]!.fn, first.tasks[7]!.fn)
})

test('short lists and other messages travel as plain msgpack maps', (t) => {
  const messages = assign(3)
  t.deepEqual(
    Buffer.from(encodeFrame(createEncoder(), messages)),
    Buffer.from(createEncoder().encode(messages)),
  )
})

test('results with and without values, errors with their error objects', (t) => {
  const messages: CoordinatorToClient[] = [
    {
      kind: 'results',
      items: Array.from({ length: 20 }, (_, i) =>
        i % 3 === 0 ? { id: i, held: 100_000 } : { id: i, value: bytes(i) },
      ),
    },
    { kind: 'running', ids: [1, 2, 3] },
    {
      kind: 'errors',
      items: Array.from({ length: 10 }, (_, i) => ({
        id: 100 + i,
        error: { name: 'Error', message: `boom ${i}`, stack: 'at x', code: 'CP_ERR_TASK' },
      })),
    },
  ]
  const decoded = decodeFrame(
    createDecoder(),
    encodeFrame(createEncoder(), messages),
    'coordinator->client',
  )
  if (!decoded.ok) return t.fail(decoded.error.message)
  t.deepEqual(decoded.messages, messages)
})

/** A `results` frame whose `items` is a rows extension with `payload`. */
function rowsFrame(payload: unknown): Uint8Array {
  const encoder = createEncoder()
  const head = encoder.encode([{ kind: 'results', items: 0 }])
  // Drop the trailing 0 (the placeholder value) and put the extension in its place.
  return Buffer.concat([
    head.subarray(0, head.byteLength - 1),
    bytes(0xd4, ROWS_EXTENSION_TYPE, 0),
    encoder.encode(payload),
  ])
}

test('a malformed rows payload is a protocol error, never a crash', (t) => {
  const bad: unknown[] = [
    'not an array',
    [[], []],
    [[], [], 5],
    [[['id', 0]], [], 1, 7, 1],
    [[['id', 1]], [], 1, 0, 3],
    [[['id', 1]], [], 1, 0, 'length'],
    [[['__proto__', 0]], [], 1, 0, { polluted: true }],
    [[['id', 2]], [], 1, 0, 1],
    [[['id']], [], 1, 0, 1],
    [[['id', 0]], [], 1, 0],
    [[['id', 0]], [], 1, 0, 1, 2],
    [[['id', 0]], [], 1, 'length', 1],
    [[['id', 0]], [], -1],
  ]
  for (const payload of bad) {
    const decoded = decodeFrame(createDecoder(), rowsFrame(payload), 'coordinator->client')
    t.false(decoded.ok, JSON.stringify(payload))
    if (!decoded.ok) t.is(decoded.error.code, 'CP_ERR_PROTOCOL')
  }
  t.is(({} as Record<string, unknown>).polluted, undefined)
})

test('a well-formed rows payload written by hand decodes, and is validated like any list', (t) => {
  const good = decodeFrame(
    createDecoder(),
    rowsFrame([[['id', 0, 'value', 0]], [], 2, 0, 1, bytes(7), 0, 2, bytes(8)]),
    'coordinator->client',
  )
  if (!good.ok) return t.fail(good.error.message)
  t.deepEqual(good.messages, [
    {
      kind: 'results',
      items: [
        { id: 1, value: bytes(7) },
        { id: 2, value: bytes(8) },
      ],
    },
  ])
  const invalid = decodeFrame(
    createDecoder(),
    rowsFrame([[['id', 0]], [], 1, 0, 'one']),
    'coordinator->client',
  )
  t.false(invalid.ok)
  if (!invalid.ok) t.regex(invalid.error.message, /items\[0\]\.id/)
})
