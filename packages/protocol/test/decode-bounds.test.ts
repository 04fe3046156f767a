/**
 * Hostile frames that used to cost far more to refuse than to send: each is fed as raw bytes and
 * must come back as a short, clear `ProtocolError`, soon. Times are measured against a generous
 * bound (a 1 MiB input refused in under a second); the assertions that matter are on the error.
 */
import test from 'ava'
import type { ExecutionContext } from 'ava'

import { ProtocolError } from '../src/errors/errors.js'
import { MAX_ERROR_NESTING, serializeError } from '../src/errors/serialize.js'
import { decodeFrame, decodeHello, encodeFrame } from '../src/messages/frame.js'
import { Direction } from '../src/messages/kinds.js'
import { createDecoder, createEncoder, encodeValue } from '../src/values/codec.js'
import { MAX_BIGINT_BYTES } from '../src/values/sendable.js'
import { PROTOCOL_VERSION } from '../src/version.js'

const MiB = 1 << 20
const C2C = Direction.CLIENT_TO_COORDINATOR
const W2C = Direction.WORKER_TO_COORDINATOR
const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex')
const cat = (...parts: Uint8Array[]): Buffer => Buffer.concat(parts)

/** msgpack ext 32 header: `c9`, a 4-byte length, the type. */
function ext32(type: number, payload: Uint8Array): Buffer {
  const head = Buffer.alloc(6)
  head[0] = 0xc9
  head.writeUInt32BE(payload.length, 1)
  head[5] = type
  return cat(head, payload)
}

/** msgpack str 32 of `length` `a`s. */
function str32(length: number): Buffer {
  const head = Buffer.alloc(5)
  head[0] = 0xdb
  head.writeUInt32BE(length, 1)
  return cat(head, Buffer.alloc(length, 0x61))
}

/** Bytes that look random enough that a BigInt of them is as costly as any. */
function noise(length: number): Buffer {
  const b = Buffer.alloc(length)
  let x = 0x2545f491
  for (let i = 0; i < length; i++) {
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    b[i] = x & 0xff
  }
  return b
}

/** `[{ kind: <kind>, ids: <value> }]` with `value` given as raw msgpack. */
function frameWith(kind: Uint8Array, value: Uint8Array): Buffer {
  // 91: array of 1; 82: map of 2; a4 'kind'; a3 'ids'
  return cat(hex('91 82 a4 6b696e64'), kind, hex('a3 696473'), value)
}
const CANCEL = hex('a6 63616e63656c')

/** Decodes `bytes` as a frame; asserts a refusal that came quickly and says little. */
function refuse(t: ExecutionContext, bytes: Uint8Array, direction: Direction = C2C): string {
  const decoder = createDecoder()
  const started = performance.now()
  const r = decodeFrame(decoder, bytes, direction)
  const elapsed = performance.now() - started
  if (r.ok) {
    t.fail('the frame was accepted')
    return ''
  }
  t.true(r.error instanceof ProtocolError)
  t.true(r.error.message.length < 400, `message of ${r.error.message.length} characters`)
  t.true(elapsed < 1000, `took ${elapsed.toFixed(0)} ms`)
  // The decoder still works after a refusal.
  const ok = decodeFrame(decoder, encodeFrame(createEncoder(), [{ kind: 'ping', seq: 1 }]), C2C)
  t.true(ok.ok)
  return r.error.message
}

test('a 1 MiB BigInt extension is refused before it is built', (t) => {
  const message = refuse(t, frameWith(CANCEL, ext32(0x42, noise(MiB))))
  t.is(
    message,
    `the frame is not valid msgpack: a BigInt extension of ${MiB} bytes is over the limit of ${MAX_BIGINT_BYTES} bytes`,
  )
})

test('a 1 MiB BigInt extension where the kind goes is refused the same way', (t) => {
  const frame = cat(hex('91 81 a4 6b696e64'), ext32(0x42, noise(MiB)))
  t.regex(refuse(t, frame), /BigInt extension of 1048576 bytes is over the limit/)
})

test('a BigInt at the limit decodes, and is described without being printed', (t) => {
  const bytes = noise(MAX_BIGINT_BYTES)
  bytes[0] = 0x7f // positive, all bytes used
  const message = refuse(t, frameWith(CANCEL, ext32(0x42, bytes)))
  t.is(
    message,
    'message 0 (cancel): field ids must be an array of task ids, got bigint beyond 64 bits',
  )
})

test('many BigInts at the limit followed by a stray byte are refused without printing them', (t) => {
  // msgpackr's own trailing-bytes error prints the value it read, BigInts in decimal.
  const big = ext32(0x42, noise(MAX_BIGINT_BYTES))
  const count = 250
  const head = Buffer.alloc(3)
  head[0] = 0xdc
  head.writeUInt16BE(count, 1)
  const frame = cat(hex('91 82 a4 6b696e64'), CANCEL, hex('a3 696473'), head)
  const parts: Uint8Array[] = [frame]
  for (let i = 0; i < count; i++) parts.push(big)
  parts.push(hex('c0'))
  t.regex(refuse(t, cat(...parts)), /^the frame is not valid msgpack: trailing bytes/)
})

test('BigInts round trip up to the limit, negative ones too', (t) => {
  const encoder = createEncoder()
  const decoder = createDecoder()
  const top = (1n << BigInt(MAX_BIGINT_BYTES * 8 - 1)) - 1n
  for (const v of [2n ** 64n, -(2n ** 64n) - 1n, 2n ** 127n, -(2n ** 127n), top, -top - 1n]) {
    t.is(decoder.decode(encodeValue(encoder, v, 'v')), v)
  }
})

test('a BigInt over the limit is unsendable on the way out, naming where it is', (t) => {
  const encoder = createEncoder()
  const over = 1n << BigInt(MAX_BIGINT_BYTES * 8 - 1)
  const err = t.throws(() => encodeValue(encoder, { n: [over] }, 'argument 0'))
  t.is(err?.name, 'UnsendableValueError')
  t.regex(err?.message ?? '', /^argument 0\.n\[0\] is a BigInt over 32768 bits/)
  t.throws(() => encodeValue(encoder, -over - 1n, 'result'), { message: /^result is a BigInt/ })
})

test('a 1 MiB string as the kind is refused, quoted only in part', (t) => {
  const frame = cat(hex('91 81 a4 6b696e64'), str32(MiB))
  const message = refuse(t, frame)
  t.is(message, `message 0: unknown kind ${JSON.stringify('a'.repeat(40))}…`)
})

test('a 1 MiB string where ids go is refused, described by its length', (t) => {
  t.is(
    refuse(t, frameWith(CANCEL, str32(MiB))),
    `message 0 (cancel): field ids must be an array of task ids, got a string of ${MiB} characters`,
  )
})

/** A valid worker hello, with `fields` in place of its own. */
function workerHello(fields: Record<string, unknown>): Record<string, unknown> {
  return {
    kind: 'hello',
    version: PROTOCOL_VERSION,
    role: 'worker',
    name: 'w',
    host: 'h',
    pid: 1,
    procs: 1,
    resources: {},
    memoryBytes: 1,
    versions: { node: '20', clusterpool: '0' },
    ...fields,
  }
}

test('a 1 MiB resource name in a worker hello is quoted only in part', (t) => {
  // { kind: 'hello', …, resources: { <1 MiB name>: -1 } } through decodeHello
  const encoder = createEncoder()
  const name = 'r'.repeat(MiB)
  const hello = workerHello({ resources: { [name]: -1 } })
  const bytes = encoder.encode([hello])
  const started = performance.now()
  const r = decodeHello(createDecoder(), bytes)
  t.true(performance.now() - started < 1000)
  if (r.ok) return t.fail()
  t.true(r.error.message.length < 400, r.error.message.slice(0, 100))
  t.regex(r.error.message, /resources\."r{40}"…/)
  // and from a connected worker, through decodeFrame
  t.true(refuse(t, bytes, W2C).length < 400)
})

test('a 1 MiB string as a task option key or value is quoted only in part', (t) => {
  const encoder = createEncoder()
  const task = (opts: unknown) => ({
    kind: 'submit',
    tasks: [{ id: 0, fn: { kind: 'module', url: 'u', exportName: 'f' }, args: hex('90'), opts }],
  })
  const long = 'x'.repeat(MiB)
  t.regex(refuse(t, encoder.encode([task({ [long]: 1 })])), /opts\."x{40}"… is not a task option$/)
  t.regex(
    refuse(t, encoder.encode([task({ timeoutMs: long })])),
    /got "x{40}"… \(1048576 characters\)$/,
  )
  t.regex(refuse(t, encoder.encode([task({ retries: { a: long } })])), /got an object$/)
})

test('a Map extension holding a 1 MiB string where a pair goes is refused briefly', (t) => {
  // d4 4d 00: the codec's Map extension (fixext 1, its payload the value that follows)
  const map = cat(hex('d4 4d 00 91'), str32(MiB))
  t.is(
    refuse(t, frameWith(CANCEL, map)),
    'the frame is not valid msgpack: malformed Map extension: an entry is not a pair',
  )
})

test('arrays nested a million deep are refused', (t) => {
  const deep = cat(Buffer.alloc(MiB, 0x91), hex('c0'))
  t.is(
    refuse(t, deep),
    'the frame is not valid msgpack: values nested too deep (Maximum call stack size exceeded)',
  )
})

test('maps nested a million deep are refused', (t) => {
  // 81 a1 'k' repeated: { k: { k: … } }
  const levels = Math.floor(MiB / 3)
  const deep = Buffer.alloc(1 + levels * 3 + 1)
  deep[0] = 0x91
  for (let i = 0; i < levels; i++) hex('81 a1 6b').copy(deep, 1 + i * 3)
  deep[deep.length - 1] = 0xc0
  t.regex(refuse(t, deep), /^the frame is not valid msgpack: values nested too deep/)
})

test('an array header claiming four billion items is refused', (t) => {
  t.is(
    refuse(t, frameWith(CANCEL, hex('dd ffffffff'))),
    'the frame is not valid msgpack: Unexpected end of MessagePack data',
  )
})

test('a string bundle extension is refused', (t) => {
  t.regex(refuse(t, frameWith(CANCEL, hex('d6 62 00000010'))), /string bundles .* not accepted/)
})

/** `[{ kind: 'errors', items: [{ key: 'k', error: <error>, durationMs: 1 }] }]` with `field` of the error given as raw msgpack. */
function errorsFrameWith(field: string, value: Uint8Array): Buffer {
  const encoder = createEncoder()
  const marker = 'M'.repeat(8)
  const error = { name: 'Error', message: 'x', [field]: marker }
  const frame = Buffer.from(
    encoder.encode([{ kind: 'errors', items: [{ key: 'k', error, durationMs: 1 }] }]),
  )
  const at = frame.indexOf(Buffer.from(`\xa8${marker}`, 'latin1'))
  return cat(frame.subarray(0, at), value, frame.subarray(at + 9))
}

test('an error whose props nest thousands deep is refused: it could not be passed on', (t) => {
  // A worker's error goes to the client as it came; 1,500 to 5,000 levels decoded, then
  // overflowed the stack when the coordinator encoded it again.
  const deep = cat(Buffer.alloc(3000, 0x91), hex('c0'))
  const props = cat(hex('81 a1 70'), deep) // { p: [[[…]]] }
  t.is(
    refuse(t, errorsFrameWith('props', props), W2C),
    `message 0 (errors): field items[0].error nests deeper than ${MAX_ERROR_NESTING} levels`,
  )
  // Unknown fields of an error travel with it, so they count too.
  t.regex(refuse(t, errorsFrameWith('extra', deep), W2C), /items\[0\]\.error nests deeper/)
})

test('serializeError leaves out props nested too deep to send, keeps the rest', (t) => {
  let deep: unknown = 0
  for (let i = 0; i < 40; i++) deep = [deep]
  const err = Object.assign(new Error('x'), { deep, shallow: [[1]], n: 2 })
  const s = serializeError(err)
  t.deepEqual(s.props, { shallow: [[1]], n: 2 })
  const frame = encodeFrame(createEncoder(), [
    { kind: 'errors', items: [{ key: 'k', error: s, durationMs: 1 }] },
  ])
  t.true(decodeFrame(createDecoder(), frame, W2C).ok)
})

test('objects passed on whole (a function reference, versions) carry no nested fields', (t) => {
  const encoder = createEncoder()
  const deep = JSON.parse('['.repeat(500) + ']'.repeat(500)) as unknown
  const submit = (fn: unknown) => [{ kind: 'submit', tasks: [{ id: 0, fn, args: hex('90') }] }]
  t.is(
    refuse(t, encoder.encode(submit({ kind: 'module', url: 'u', exportName: 'f', junk: deep }))),
    'message 0 (submit): field tasks[0].fn.junk must be a string, got an array',
  )
  t.regex(
    refuse(t, encoder.encode(submit({ kind: 'source', hash: 'h', name: 'n', x: { y: 1 } }))),
    /field tasks\[0\]\.fn\.x must be a string, got an object$/,
  )
  const hello = workerHello({ versions: { node: '20', clusterpool: '0', extra: deep } })
  const r = decodeHello(createDecoder(), encoder.encode([hello]))
  t.false(r.ok)
  if (!r.ok)
    t.is(r.error.message, 'message 0 (hello): field versions.extra must be a string, got an array')
})
