import test from 'ava'
import { Packr } from 'msgpackr'

import { ErrorCode } from '../src/errors/codes.js'
import { ProtocolError, VersionMismatchError } from '../src/errors/errors.js'
import { decodeFrame, decodeHello, encodeFrame } from '../src/messages/frame.js'
import { Direction, KINDS_BY_DIRECTION } from '../src/messages/kinds.js'
import { createDecoder, createEncoder } from '../src/values/codec.js'
import { PROTOCOL_VERSION } from '../src/version.js'
import {
  CLIENT_TO_COORDINATOR,
  COORDINATOR_TO_CLIENT,
  COORDINATOR_TO_WORKER,
  FIXTURES,
  WORKER_TO_COORDINATOR,
  bin,
  fn,
} from './helpers/fixtures.js'

const encoder = createEncoder()
const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex')

function decode(bytes: Uint8Array, direction: Direction) {
  return decodeFrame(createDecoder(), bytes, direction)
}

/** The error message of a frame that must be refused. */
function refusal(direction: Direction, messages: unknown[] | Uint8Array): string {
  const bytes = messages instanceof Uint8Array ? messages : encoder.encode(messages)
  const r = decode(bytes, direction)
  if (r.ok) throw new Error('expected the frame to be refused')
  return r.error.message
}

for (const direction of Object.values(Direction)) {
  test(`every ${direction} kind has a fixture`, (t) => {
    t.deepEqual(
      FIXTURES[direction].map((m) => m.kind).sort(),
      [...KINDS_BY_DIRECTION[direction]].sort(),
    )
  })

  for (const message of FIXTURES[direction]) {
    test(`${direction} ${message.kind} round trips`, (t) => {
      const r = decode(encodeFrame(encoder, [message]), direction)
      if (!r.ok) return t.fail(r.error.message)
      t.deepEqual(r.messages, [message])
    })
  }

  test(`${direction}: a frame of all its kinds round trips in order`, (t) => {
    const r = decode(encodeFrame(encoder, FIXTURES[direction]), direction)
    if (!r.ok) return t.fail(r.error.message)
    t.deepEqual(
      r.messages.map((m) => m.kind),
      FIXTURES[direction].map((m) => m.kind),
    )
  })
}

test('validated task options come back frozen', (t) => {
  const r = decode(encodeFrame(encoder, CLIENT_TO_COORDINATOR), Direction.CLIENT_TO_COORDINATOR)
  if (!r.ok) return t.fail(r.error.message)
  const submit = r.messages[1]
  if (submit?.kind !== 'submit') return t.fail()
  t.true(Object.isFrozen(submit.tasks[1]?.opts))
})

const ping = { kind: 'ping', seq: 1 }
const task = { id: 0, fn, args: bin(0x90) }
const C2C = Direction.CLIENT_TO_COORDINATOR

// [direction, messages, the exact error message]
const INVALID: [Direction, unknown[], string][] = [
  [
    C2C,
    [
      ping,
      ping,
      ping,
      { kind: 'submit', tasks: [task, task, { ...task, fn: { ...fn, hash: 5 } }] },
    ],
    'message 3 (submit): field tasks[2].fn.hash must be a string, got number 5',
  ],
  [
    C2C,
    [{ kind: 'submit', tasks: {} }],
    'message 0 (submit): field tasks must be an array, got an object',
  ],
  [
    C2C,
    [{ kind: 'submit', tasks: [5] }],
    'message 0 (submit): field tasks[0] must be an object, got number 5',
  ],
  [
    C2C,
    [{ kind: 'submit', tasks: [{ ...task, id: -1 }] }],
    'message 0 (submit): field tasks[0].id must be a non-negative integer, got number -1',
  ],
  [
    C2C,
    [{ kind: 'submit', tasks: [{ ...task, id: 1.5 }] }],
    'message 0 (submit): field tasks[0].id must be a non-negative integer, got number 1.5',
  ],
  [
    C2C,
    [{ kind: 'submit', tasks: [{ id: 0, fn }] }],
    'message 0 (submit): field tasks[0].args must be bytes (msgpack bin), got undefined',
  ],
  [
    C2C,
    [{ kind: 'submit', tasks: [{ ...task, args: 'abc' }] }],
    'message 0 (submit): field tasks[0].args must be bytes (msgpack bin), got the string "abc"',
  ],
  [
    C2C,
    [{ kind: 'submit', tasks: [{ ...task, fn: 'inc' }] }],
    'message 0 (submit): field tasks[0].fn must be an object, got the string "inc"',
  ],
  [
    C2C,
    [{ kind: 'submit', tasks: [{ ...task, fn: { kind: 'lambda' } }] }],
    `message 0 (submit): field tasks[0].fn.kind must be 'source' or 'module', got the string "lambda"`,
  ],
  [
    C2C,
    [{ kind: 'submit', tasks: [{ ...task, fn: { ...fn, source: 1 } }] }],
    'message 0 (submit): field tasks[0].fn.source must be a string, got number 1',
  ],
  [
    C2C,
    [{ kind: 'submit', tasks: [{ ...task, fn: { kind: 'module', url: 'x' } }] }],
    'message 0 (submit): field tasks[0].fn.exportName must be a string, got undefined',
  ],
  [
    C2C,
    [{ kind: 'submit', tasks: [{ ...task, deps: [0, 'a'] }] }],
    'message 0 (submit): field tasks[0].deps[1] must be a non-negative integer, got the string "a"',
  ],
  [
    C2C,
    [{ kind: 'submit', tasks: [task, { ...task, opts: { timeoutMs: -5 } }] }],
    'message 0 (submit): field tasks[1].opts.timeoutMs must be a positive number of milliseconds, got -5',
  ],
  [
    C2C,
    [{ kind: 'submit', tasks: [{ ...task, opts: { colour: 'red' } }] }],
    'message 0 (submit): field tasks[0].opts.colour is not a task option',
  ],
  [
    C2C,
    [{ kind: 'submit', tasks: [{ ...task, opts: 3 }] }],
    'message 0 (submit): field tasks[0].opts must be an object',
  ],
  [
    C2C,
    [{ kind: 'submit', tasks: [{ ...task, keep: 1 }] }],
    'message 0 (submit): field tasks[0].keep must be a boolean, got number 1',
  ],
  [
    C2C,
    [{ kind: 'cancel', ids: 3 }],
    'message 0 (cancel): field ids must be an array of task ids, got number 3',
  ],
  [
    C2C,
    [{ kind: 'release', ids: [1, null] }],
    'message 0 (release): field ids[1] must be a non-negative integer, got null',
  ],
  [
    C2C,
    [{ kind: 'gather' }],
    'message 0 (gather): field ids must be an array of task ids, got undefined',
  ],
  [
    C2C,
    [{ kind: 'scatter', items: [{ id: 1, value: [1] }] }],
    'message 0 (scatter): field items[0].value must be bytes (msgpack bin), got an array',
  ],
  [
    C2C,
    [{ kind: 'ping', seq: 1n }],
    'message 0 (ping): field seq must be a non-negative integer, got bigint 1',
  ],
  [
    C2C,
    [{ kind: 'hello', version: PROTOCOL_VERSION, role: 'worker' }],
    `message 0 (hello): field role must be 'client', got the string "worker"`,
  ],
  [C2C, [ping, 5], 'message 1 must be an object, got number 5'],
  [C2C, [ping, [ping]], 'message 1 must be an object, got an array'],
  [C2C, [{ seq: 1 }], 'message 0: field kind must be a string, got undefined'],
  [C2C, [{ kind: 'frobnicate' }], 'message 0: unknown kind "frobnicate"'],
  [C2C, [{ kind: 'constructor' }], 'message 0: unknown kind "constructor"'],
  [C2C, [{ kind: '__proto__' }], 'message 0: unknown kind "__proto__"'],
  [
    C2C,
    [{ kind: 'assign', tasks: [] }],
    'message 0: kind "assign" is not sent from client to coordinator (it is sent from coordinator to worker)',
  ],
  [
    Direction.COORDINATOR_TO_CLIENT,
    [{ kind: 'cancel', ids: [] }],
    'message 0: kind "cancel" is not sent from coordinator to client ' +
      '(it is sent from client to coordinator and from coordinator to worker)',
  ],
  [
    Direction.COORDINATOR_TO_CLIENT,
    [{ kind: 'errors', items: [{ id: 1, error: { name: 'Error' } }] }],
    'message 0 (errors): field items[0].error must be a serialized error ' +
      '({ name, message, stack?, code?, cause?, props? }), got an object',
  ],
  [
    Direction.COORDINATOR_TO_CLIENT,
    [{ kind: 'refuse', code: 401, message: 'no' }],
    'message 0 (refuse): field code must be a string, got number 401',
  ],
  [
    Direction.COORDINATOR_TO_CLIENT,
    [
      {
        ...COORDINATOR_TO_CLIENT[0],
        coordinator: { name: 'c', versions: { node: 20 }, workers: 0, procs: 0 },
      },
    ],
    'message 0 (welcome): field coordinator.versions.node must be a string, got number 20',
  ],
  [
    Direction.WORKER_TO_COORDINATOR,
    [{ ...WORKER_TO_COORDINATOR[0], procs: 0 }],
    'message 0 (hello): field procs must be a positive integer, got number 0',
  ],
  [
    Direction.WORKER_TO_COORDINATOR,
    [{ ...WORKER_TO_COORDINATOR[0], name: '' }],
    'message 0 (hello): field name must be a non-empty string, got the string ""',
  ],
  [
    Direction.WORKER_TO_COORDINATOR,
    [{ ...WORKER_TO_COORDINATOR[0], resources: { GPU: -1 } }],
    'message 0 (hello): field resources.GPU must be a non-negative finite number, got number -1',
  ],
  [
    Direction.WORKER_TO_COORDINATOR,
    [{ kind: 'heartbeat', running: 0, queued: 0, cpu: NaN, memoryRss: 0, heldBytes: 0 }],
    'message 0 (heartbeat): field cpu must be a non-negative finite number, got number NaN',
  ],
  [
    Direction.WORKER_TO_COORDINATOR,
    [{ kind: 'memoryPause', paused: 'yes' }],
    'message 0 (memoryPause): field paused must be a boolean, got the string "yes"',
  ],
  [
    Direction.WORKER_TO_COORDINATOR,
    [{ kind: 'dataLost', keys: ['a'] }],
    'message 0 (dataLost): field returned must be an array of task keys, got undefined',
  ],
  [
    Direction.WORKER_TO_COORDINATOR,
    [{ kind: 'results', items: [{ key: 'a', size: 1, durationMs: Infinity }] }],
    'message 0 (results): field items[0].durationMs must be a non-negative finite number, got number Infinity',
  ],
  [
    Direction.WORKER_TO_COORDINATOR,
    [{ kind: 'stealReply', given: ['a'], kept: [1] }],
    'message 0 (stealReply): field kept[0] must be a string, got number 1',
  ],
  [
    Direction.WORKER_TO_COORDINATOR,
    [{ kind: 'data', items: [], missing: 'a' }],
    'message 0 (data): field missing must be an array of task keys, got the string "a"',
  ],
  [
    Direction.COORDINATOR_TO_WORKER,
    [{ kind: 'assign', tasks: [{ key: 'k', fn, args: bin(), deps: [{ id: 0 }], attempt: 1 }] }],
    'message 0 (assign): field tasks[0].deps[0].key must be a string, got undefined',
  ],
  [
    Direction.COORDINATOR_TO_WORKER,
    [{ kind: 'assign', tasks: [{ key: 'k', fn, args: bin(), attempt: 0 }] }],
    'message 0 (assign): field tasks[0].attempt must be a positive integer, got number 0',
  ],
  [
    Direction.COORDINATOR_TO_WORKER,
    [{ kind: 'shutdown' }],
    'message 0 (shutdown): field reason must be a string, got undefined',
  ],
]

for (const [direction, messages, expected] of INVALID) {
  test(`refused (${direction}): ${expected}`, (t) => {
    const bytes = encoder.encode(messages)
    const r = decode(bytes, direction)
    if (r.ok) return t.fail('accepted')
    t.true(r.error instanceof ProtocolError)
    t.is(r.error.code, ErrorCode.PROTOCOL)
    t.is(r.error.message, expected)
  })
}

test('a welcome of another protocol version is a VersionMismatchError', (t) => {
  const r = decode(
    encoder.encode([{ ...COORDINATOR_TO_WORKER[0], version: PROTOCOL_VERSION + 1 }]),
    Direction.COORDINATOR_TO_WORKER,
  )
  if (r.ok) return t.fail()
  t.true(r.error instanceof VersionMismatchError)
  t.is(
    r.error.message,
    `message 0 (welcome): field version is ${PROTOCOL_VERSION + 1}: the peer speaks protocol version ${PROTOCOL_VERSION + 1}, this side speaks ${PROTOCOL_VERSION}`,
  )
})

// Raw bytes, as ws's tests feed them.
const MALFORMED: [string, string][] = [
  ['', 'the frame is not valid msgpack: Unexpected end of MessagePack data'],
  ['91', 'the frame is not valid msgpack: Unexpected end of MessagePack data'],
  ['c1', 'a frame must be an array of messages, got a C1Type'],
  ['c0', 'a frame must be an array of messages, got null'],
  ['81 a4 6b696e64 a4 70696e67', 'a frame must be an array of messages, got an object'],
  ['90', 'frame holds no messages'],
  ['91 c0 c0', 'the frame is not valid msgpack: trailing bytes: the value ends at byte 2 of 3'],
  ['d4 ee 00', 'the frame is not valid msgpack: Unknown extension 238'],
  ['c4 ff 00', 'the frame is not valid msgpack: Unexpected end of MessagePack data'],
  // ext 0x44 (DepRef) whose id is not an integer
  [
    '91 d4 44 00 a1 78',
    'the frame is not valid msgpack: malformed dependency reference (msgpack extension 0x44)',
  ],
  // a structured-clone pointer, disabled
  ['91 d6 70 00000001', 'the frame is not valid msgpack: Structured clone extension is disabled'],
]

for (const [bytes, expected] of MALFORMED) {
  test(`malformed frame ${bytes || '(empty)'} is refused`, async (t) => {
    await import('../src/messages/dep-ref.js') // registers ext 0x44
    t.is(refusal(C2C, hex(bytes)), expected)
  })
}

test('nesting deeper than the stack is refused, not thrown', (t) => {
  const deep = hex('91'.repeat(200_000) + 'c0')
  const r = decode(deep, C2C)
  if (r.ok) return t.fail()
  t.regex(
    r.error.message,
    /^the frame is not valid msgpack: values nested too deep \(Maximum call stack size exceeded\)$/,
  )
  t.true(r.error.cause instanceof RangeError)
})

test('a non-binary frame (a ws text message) is refused', (t) => {
  const r = decodeFrame(createDecoder(), 'hello' as unknown as Uint8Array, C2C)
  t.false(r.ok)
})

test('record definitions in one frame do not change how the next decodes', (t) => {
  // A sequential packer defines a record in its first frame and only refers to it after.
  const sequential = new Packr({ useRecords: true, sequential: true })
  const first = sequential.pack([{ kind: 'ping', seq: 1 }])
  const second = sequential.pack([{ kind: 'ping', seq: 2 }])
  t.is(Buffer.from(second).toString('hex'), '9140a470696e6702')
  const decoder = createDecoder()
  const a = decodeFrame(decoder, first, C2C)
  t.true(a.ok)
  const b = decodeFrame(decoder, second, C2C)
  t.false(b.ok)
})

test('__proto__ keys are not prototypes', (t) => {
  // {kind: 'ping', seq: 1, __proto__: {polluted: 1}} spelled out in msgpack.
  const bytes = hex(
    '91 83 a4 6b696e64 a4 70696e67 a3 736571 01 a9 5f5f70726f746f5f5f 81 a8 706f6c6c75746564 01',
  )
  const r = decode(bytes, C2C)
  if (!r.ok) return t.fail(r.error.message)
  t.is(Object.getPrototypeOf(r.messages[0]), Object.prototype)
  t.is(({} as Record<string, unknown>).polluted, undefined)
})

test('decodeHello accepts a client or a worker hello', (t) => {
  const c = decodeHello(createDecoder(), encoder.encode([CLIENT_TO_COORDINATOR[0]]))
  if (!c.ok) return t.fail(c.error.message)
  t.is(c.hello.role, 'client')
  const w = decodeHello(createDecoder(), encoder.encode([WORKER_TO_COORDINATOR[0]]))
  if (!w.ok) return t.fail(w.error.message)
  t.is(w.hello.role, 'worker')
  if (w.hello.role === 'worker') t.is(w.hello.procs, 4)
})

test('decodeHello reports another version before anything else in the hello', (t) => {
  const r = decodeHello(
    createDecoder(),
    encoder.encode([{ kind: 'hello', version: 7, role: 'robot', extra: { new: 'layout' } }]),
  )
  if (r.ok) return t.fail()
  t.true(r.error instanceof VersionMismatchError)
  t.is(r.error.code, ErrorCode.VERSION_MISMATCH)
  t.true(
    r.error.message.includes(
      `the peer speaks protocol version 7, this side speaks ${PROTOCOL_VERSION}`,
    ),
  )
})

const BAD_HELLOS: [unknown[], string][] = [
  [[], 'the first frame must hold exactly one message (hello), not 0'],
  [
    [CLIENT_TO_COORDINATOR[0], ping],
    'the first frame must hold exactly one message (hello), not 2',
  ],
  [[ping], 'message 0: the first message must be a hello, got kind the string "ping"'],
  [['hello'], 'message 0 must be an object, got the string "hello"'],
  [
    [{ kind: 'hello', version: PROTOCOL_VERSION, role: 'admin' }],
    `message 0 (hello): field role must be 'client' or 'worker', got the string "admin"`,
  ],
  [
    [{ kind: 'hello', version: '1', role: 'client' }],
    `message 0 (hello): field version must be a non-negative integer, got the string "1"`,
  ],
  [
    [{ ...WORKER_TO_COORDINATOR[0], pid: -3 }],
    'message 0 (hello): field pid must be a non-negative integer, got number -3',
  ],
]

for (const [messages, expected] of BAD_HELLOS) {
  test(`decodeHello refuses: ${expected}`, (t) => {
    const r = decodeHello(createDecoder(), encoder.encode(messages))
    if (r.ok) return t.fail()
    t.true(r.error instanceof ProtocolError)
    t.is(r.error.message, expected)
  })
}

/** A small deterministic PRNG (mulberry32), so a failure can be replayed. */
function prng(seed: number): () => number {
  let a = seed
  return () => {
    a = (a + 0x6d2b79f5) | 0
    let x = Math.imul(a ^ (a >>> 15), 1 | a)
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296
  }
}

test('10k random byte strings never throw', (t) => {
  const random = prng(0xc0ffee)
  const directions = Object.values(Direction)
  const decoder = createDecoder()
  let accepted = 0
  for (let i = 0; i < 10_000; i++) {
    const bytes = Buffer.alloc(Math.floor(random() * 64))
    // Start most of them as an array, so the fuzz reaches the message checks.
    for (let j = 0; j < bytes.length; j++) bytes[j] = Math.floor(random() * 256)
    if (bytes.length > 0 && random() < 0.7) bytes[0] = 0x91 + Math.floor(random() * 3)
    const direction = directions[i % directions.length]!
    const r = decodeFrame(decoder, bytes, direction)
    if (r.ok) accepted++
    else t.true(r.error instanceof ProtocolError, r.error.message)
    t.notThrows(() => decodeHello(decoder, bytes))
  }
  t.log(`${accepted} of 10000 random frames were valid`)
})

test('10k mutations of valid frames never throw', (t) => {
  const random = prng(42)
  const decoder = createDecoder()
  const frames = Object.values(Direction).map(
    (d) => [d, Buffer.from(encodeFrame(encoder, FIXTURES[d]))] as const,
  )
  for (let i = 0; i < 10_000; i++) {
    const [direction, frame] = frames[i % frames.length]!
    const bytes = Buffer.from(frame)
    const flips = 1 + Math.floor(random() * 4)
    for (let f = 0; f < flips; f++) {
      bytes[Math.floor(random() * bytes.length)] = Math.floor(random() * 256)
    }
    const cut = random() < 0.2 ? bytes.subarray(0, Math.floor(random() * bytes.length)) : bytes
    t.notThrows(() => decodeFrame(decoder, cut, direction))
  }
})

test('a batch of 10k tasks decodes and validates', (t) => {
  const tasks = Array.from({ length: 10_000 }, (_, id) => ({
    id,
    fn: { kind: 'source', hash: 'h4sh', name: 'inc' } as const,
    args: bin(0x91, 0x01),
  }))
  const r = decode(encodeFrame(encoder, [{ kind: 'submit', tasks }]), C2C)
  if (!r.ok) return t.fail(r.error.message)
  const submit = r.messages[0]
  t.is(submit?.kind === 'submit' ? submit.tasks.length : 0, 10_000)
})
