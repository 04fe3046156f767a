import test from 'ava'

import { ErrorCode } from '../src/errors/codes.js'
import {
  CancelledError,
  ClusterpoolError,
  KilledWorkerError,
  TaskError,
  TaskTimeoutError,
  UnsendableValueError,
} from '../src/errors/errors.js'
import { deserializeError, isSerializedError, serializeError } from '../src/errors/serialize.js'
import type { SerializedError } from '../src/errors/serialize.js'
import { createDecoder, createEncoder, encodeValue } from '../src/values/codec.js'
import { checkSendable } from '../src/values/sendable.js'

const encoder = createEncoder()
const roundTrip = (v: unknown): unknown => createDecoder().decode(encodeValue(encoder, v, 'value'))

// ─── values ──────────────────────────────────────────────────────────────────────────────

const VALUES: [string, unknown][] = [
  ['integers', [0, 1, -1, 127, 128, 65536, 2 ** 31, -(2 ** 31) - 1, Number.MAX_SAFE_INTEGER]],
  ['floats', [0.5, -1.25, 1e300, Number.MIN_VALUE, Infinity, -Infinity]],
  ['NaN', Number.NaN],
  ['strings', ['', 'a', 'é', '😀', 'x'.repeat(70_000)]],
  ['booleans, null and undefined', [true, false, null, undefined]],
  ['undefined in an object', { a: undefined, b: 1 }],
  ['nested plain values', { a: [1, { b: ['c', { d: null }] }], e: {} }],
  [
    'a Map',
    new Map<unknown, unknown>([
      ['a', 1],
      [2, 'b'],
      [null, [3]],
    ]),
  ],
  [
    'Maps inside arrays, objects, Sets and Maps',
    [{ m: new Map([['k', new Map([[1, 2]])]]) }, new Set([new Map([[1, 1]])])],
  ],
  ['a Set', new Set([1, 'a', null, 2.5])],
  ['a Date', new Date(1_700_000_000_123)],
  ['a Date before 1970', new Date(-86_400_000)],
  ['small BigInts', [0n, 5n, -3n, 2n ** 63n - 1n, -(2n ** 63n)]],
  ['huge BigInts', [2n ** 64n, 2n ** 200n + 7n, -(2n ** 100n)]],
  ['a Buffer', Buffer.from('hello')],
  ['a Uint8Array', new Uint8Array([1, 2, 255])],
  ['a Float64Array', new Float64Array([1.5, -2, Number.NaN])],
  ['an Int32Array', new Int32Array([-1, 2 ** 30])],
  ['a BigInt64Array', new BigInt64Array([-1n, 2n ** 62n])],
  ['a Uint8ClampedArray', new Uint8ClampedArray([0, 255])],
  ['an ArrayBuffer', new Uint8Array([9, 8, 7]).buffer],
  ['an empty array and object', [[], {}]],
  ['a RegExp', /a+b/giu],
]

for (const [name, value] of VALUES) {
  test(`values round trip: ${name}`, (t) => {
    t.deepEqual(roundTrip(value), value)
  })
}

test('typed arrays keep their class, Buffers stay Buffers', (t) => {
  t.true(roundTrip(Buffer.from('x')) instanceof Buffer)
  t.is((roundTrip(new Float32Array([1])) as object).constructor, Float32Array)
  t.is((roundTrip(new Uint16Array([1])) as object).constructor, Uint16Array)
  const view = roundTrip(new DataView(new Uint8Array([1, 2]).buffer)) as DataView
  t.true(view instanceof DataView)
  t.is(view.getUint8(1), 2)
})

test('a typed array view into a larger buffer sends only its own bytes', (t) => {
  const whole = new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8])
  const back = roundTrip(new Uint16Array(whole.buffer, 2, 2)) as Uint16Array
  t.is(back.length, 2)
  t.deepEqual([...new Uint8Array(back.buffer, back.byteOffset, back.byteLength)], [3, 4, 5, 6])
})

test('errors inside values come back as their built-in class', (t) => {
  const back = roundTrip([new RangeError('out')]) as unknown[]
  t.true(back[0] instanceof RangeError)
  t.is((back[0] as Error).message, 'out')
})

test('decoders are separate: one per connection', (t) => {
  const a = createDecoder()
  const b = createDecoder()
  t.not(a, b)
  const bytes = encodeValue(encoder, { x: 1 }, 'v')
  t.deepEqual(a.decode(bytes), b.decode(bytes))
})

test('a decoder throws on malformed input (callers catch)', (t) => {
  const decoder = createDecoder()
  for (const hex of ['', '92', 'c1c1', 'd4ee00', 'c4ff']) {
    t.throws(() => decoder.decode(Buffer.from(hex, 'hex')), undefined, hex)
  }
})

// ─── unsendable values, named ────────────────────────────────────────────────────────────

class Point {
  constructor(readonly x: number) {}
}
function namedFn(): void {}
const circular: Record<string, unknown> = { a: 1 }
circular.self = circular

const UNSENDABLE: [string, unknown, string, string][] = [
  ['a function', [1, namedFn], 'argument 0[1]', 'function (namedFn)'],
  ['an arrow function', { cb: () => 1 }, 'argument 0.cb', 'function (cb)'],
  ['a symbol', { s: Symbol('x') }, 'argument 0.s', 'symbol'],
  ['a class instance', { p: new Point(1) }, 'argument 0.p', 'Point instance'],
  ['a Promise', [Promise.resolve(1)], 'argument 0[0]', 'Promise instance'],
  ['a WeakMap', new Map([['k', new WeakMap()]]), 'argument 0.get("k")', 'WeakMap instance'],
  ['a Map key', new Map([[namedFn, 1]]), 'argument 0.keys()[0]', 'function (namedFn)'],
  ['a Set member', new Set([1, Symbol.iterator]), 'argument 0.values()[1]', 'symbol'],
  ['a circular reference', circular, 'argument 0.self', 'circular reference'],
]

for (const [name, value, path, valueType] of UNSENDABLE) {
  test(`unsendable, named: ${name}`, (t) => {
    const err = t.throws(() => encodeValue(encoder, value, 'argument 0'), {
      instanceOf: UnsendableValueError,
    })
    t.is(err.code, ErrorCode.UNSENDABLE)
    t.is(err.path, path)
    t.is(err.valueType, valueType)
    t.true(err.message.startsWith(`${path} is a ${valueType}, which cannot be sent`), err.message)
  })
}

test('a value shared twice (not circular) is sendable', (t) => {
  const shared = { n: 1 }
  t.deepEqual(roundTrip([shared, shared]), [{ n: 1 }, { n: 1 }])
})

test('checkSendable reports Maps', (t) => {
  t.deepEqual(checkSendable([1, { a: 2 }], 'v'), { hasMap: false })
  t.deepEqual(checkSendable([1, { a: new Map() }], 'v'), { hasMap: true })
})

test('values nested past 1000 levels are refused, not a stack overflow', (t) => {
  let deep: unknown[] = []
  const root = deep
  for (let i = 0; i < 1500; i++) {
    const next: unknown[] = []
    deep.push(next)
    deep = next
  }
  const err = t.throws(() => checkSendable(root, 'v'), { instanceOf: UnsendableValueError })
  t.regex(err.valueType, /nested deeper than 1000 levels/)
})

// ─── errors across the wire ──────────────────────────────────────────────────────────────

/** Serializes, sends through msgpack, checks the shape, deserializes. */
function errorRoundTrip(thrown: unknown): Error {
  const wire = createDecoder().decode(encoder.encode(serializeError(thrown)))
  if (!isSerializedError(wire)) throw new Error('not a serialized error')
  return deserializeError(wire)
}

for (const Builtin of [
  Error,
  TypeError,
  RangeError,
  SyntaxError,
  ReferenceError,
  EvalError,
  URIError,
]) {
  test(`${Builtin.name} keeps its class, message and stack`, (t) => {
    const original = new Builtin('boom')
    const back = errorRoundTrip(original)
    t.is(back.constructor, Builtin)
    t.is(back.name, Builtin.name)
    t.is(back.message, 'boom')
    t.is(back.stack, original.stack)
  })
}

test('a custom error becomes a TaskError with its name, stack, cause and props', (t) => {
  class QuotaError extends Error {
    override name = 'QuotaError'
    limit = 10
    callback = () => 0 // not sendable: dropped
  }
  const original = new QuotaError('over quota', { cause: new TypeError('inner') })
  Object.assign(original, { code: 'E_QUOTA' })
  const back = errorRoundTrip(original)
  t.true(back instanceof TaskError)
  t.true(back instanceof ClusterpoolError)
  t.is(back.name, 'QuotaError')
  t.is(back.message, 'over quota')
  t.is(back.stack, original.stack)
  t.is((back as unknown as { code: string }).code, 'E_QUOTA')
  t.is((back as unknown as { limit: number }).limit, 10)
  t.false('callback' in back)
  t.true(back.cause instanceof TypeError)
  t.is((back.cause as Error).message, 'inner')
})

test("Node's error codes survive (ENOENT)", (t) => {
  const enoent = Object.assign(new Error('no such file'), { code: 'ENOENT', errno: -2, path: '/x' })
  const back = errorRoundTrip(enoent) as Error & { code: string; errno: number; path: string }
  t.is(back.constructor, Error)
  t.is(back.code, 'ENOENT')
  t.is(back.errno, -2)
  t.is(back.path, '/x')
})

test("clusterpool's own errors keep their class and code", (t) => {
  const cancelled = errorRoundTrip(new CancelledError())
  t.true(cancelled instanceof CancelledError)
  t.is((cancelled as CancelledError).code, ErrorCode.CANCELLED)

  const timeout = errorRoundTrip(new TaskTimeoutError(250))
  t.true(timeout instanceof TaskTimeoutError)
  t.is((timeout as TaskTimeoutError).timeoutMs, 250)
  t.is((timeout as TaskTimeoutError).code, ErrorCode.TASK_TIMEOUT)

  const killed = errorRoundTrip(new KilledWorkerError('c1:4', ['w1', 'w2']))
  t.true(killed instanceof KilledWorkerError)
  t.deepEqual((killed as KilledWorkerError).workers, ['w1', 'w2'])
})

test('a cause chain comes back whole, and a cycle of causes ends', (t) => {
  const back = errorRoundTrip(
    new Error('a', { cause: new RangeError('b', { cause: new Error('c') }) }),
  )
  t.is((back.cause as Error).message, 'b')
  t.true(back.cause instanceof RangeError)
  t.is(((back.cause as Error).cause as Error).message, 'c')

  const loop = new Error('loop')
  loop.cause = loop
  let depth = 0
  for (let e: unknown = errorRoundTrip(loop); e instanceof Error; e = e.cause) depth++
  t.true(depth > 1 && depth < 20, String(depth))
})

test('thrown non-errors are described', (t) => {
  const back = errorRoundTrip('just a string')
  t.is(back.message, 'a non-Error value was thrown: just a string')
  t.is(
    errorRoundTrip({ toString: null }).message,
    'a non-Error value was thrown: {"toString":null}',
  )
  // A thrown plain object keeps its fields, its string code as the code.
  const object = errorRoundTrip({ message: 'no quota', code: 'E_QUOTA', left: 0 })
  t.is(
    object.message,
    'a non-Error value was thrown: {"message":"no quota","code":"E_QUOTA","left":0}',
  )
  t.is((object as Error & { code?: string }).code, 'E_QUOTA')
  t.is((object as Error & { left?: number }).left, 0)
  t.regex(errorRoundTrip('x'.repeat(2000)).message, /x…$/)
})

test('a cause that is a value, not an Error, comes back as that value', (t) => {
  const back = errorRoundTrip(new Error('top', { cause: { status: 404, url: '/x' } }))
  t.deepEqual(back.cause, { status: 404, url: '/x' })
  t.is(errorRoundTrip(new Error('top', { cause: 'a string cause' })).cause, 'a string cause')
  // An unsendable one is still described.
  const fn = errorRoundTrip(new Error('top', { cause: () => 1 }))
  t.regex((fn.cause as Error).message, /a non-Error value was thrown/)
})

test('an AggregateError keeps its errors', (t) => {
  const back = errorRoundTrip(
    new AggregateError([new TypeError('one'), new Error('two', { cause: 'why' })], 'many'),
  )
  t.true(back instanceof AggregateError)
  t.is(back.message, 'many')
  const errors = (back as AggregateError).errors as Error[]
  t.is(errors.length, 2)
  t.true(errors[0] instanceof TypeError)
  t.is(errors[0]!.message, 'one')
  t.is(errors[1]!.cause, 'why')
  // Nested ones stay within the cause-depth bound.
  let deep: Error = new Error('leaf')
  for (let i = 0; i < 30; i++) deep = new AggregateError([deep], `level ${i}`)
  const wire = serializeError(deep)
  t.true(isSerializedError(wire))
  let levels = 0
  for (let e: SerializedError | undefined = wire; e; e = e.errors?.[0]) levels++
  t.true(levels <= 5, String(levels))
})

test('isSerializedError refuses malformed shapes', (t) => {
  const ok: SerializedError = { name: 'Error', message: 'm' }
  t.true(isSerializedError(ok))
  for (const bad of [
    null,
    'Error',
    { name: 'Error' },
    { name: 1, message: 'm' },
    { name: 'E', message: 'm', stack: 5 },
    { name: 'E', message: 'm', code: 5 },
    { name: 'E', message: 'm', cause: { name: 'E' } },
    { name: 'E', message: 'm', props: 'x' },
  ]) {
    t.false(isSerializedError(bad), JSON.stringify(bad))
  }
})
