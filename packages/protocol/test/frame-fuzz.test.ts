/**
 * Property-based fuzzing of the frame decoder. Valid messages of every direction (the fixtures)
 * are mutated, first as values (a field replaced by a hostile value, removed, or a field added;
 * at any depth) and then as bytes (flipped, cut, spliced), and the frame is decoded. Whatever
 * comes in, `decodeFrame` and `decodeHello` must return: messages that validate again when sent
 * on, or a `ProtocolError` / `VersionMismatchError`. Never another exception, never a stall.
 */
import test from 'ava'
import fc from 'fast-check'

import { ProtocolError, VersionMismatchError } from '../src/errors/errors.js'
import { decodeFrame, decodeHello, encodeFrame } from '../src/messages/frame.js'
import type { Message } from '../src/messages/frame.js'
import { Direction } from '../src/messages/kinds.js'
import { createDecoder, createEncoder } from '../src/values/codec.js'
import { MAX_BIGINT_BYTES } from '../src/values/sendable.js'
import { FIXTURES } from './helpers/fixtures.js'

/** Cases per property: enough to find the shallow bugs on every run, small enough for CI. */
const RUNS = 250
/** A generous bound on one decode of a frame of at most a few KiB: a stall, not a slow machine. */
const STALL_MS = 1000

const encoder = createEncoder()

/** Values a hostile peer might put anywhere. */
const hostile: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(null, undefined, true, false, 0, -1, NaN, Infinity, '', '__proto__', 'kind'),
  fc.integer(),
  fc.double(),
  fc.bigInt({ min: -(1n << 200n), max: 1n << 200n }),
  fc.string({ maxLength: 60 }),
  fc.uint8Array({ maxLength: 40 }),
  fc.date({ noInvalidDate: false }),
  fc.array(fc.integer(), { maxLength: 5 }),
  fc.dictionary(fc.string({ maxLength: 8 }), fc.oneof(fc.integer(), fc.string({ maxLength: 8 })), {
    maxKeys: 4,
  }),
  fc.anything({ maxDepth: 3, withBigInt: true, withDate: true, withMap: true, withSet: true }),
)

type Mutation =
  | { readonly op: 'replace'; readonly at: number; readonly value: unknown }
  | { readonly op: 'delete'; readonly at: number }
  | { readonly op: 'add'; readonly at: number; readonly key: string; readonly value: unknown }

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ op: fc.constant('replace' as const), at: fc.nat(), value: hostile }),
  fc.record({ op: fc.constant('delete' as const), at: fc.nat() }),
  fc.record({
    op: fc.constant('add' as const),
    at: fc.nat(),
    key: fc.oneof(fc.constantFrom('kind', 'id', 'opts', 'deps', '__proto__'), fc.string()),
    value: hostile,
  }),
)

type ByteMutation =
  | { readonly op: 'flip'; readonly at: number; readonly byte: number }
  | { readonly op: 'cut'; readonly at: number }
  | { readonly op: 'insert'; readonly at: number; readonly bytes: Uint8Array }

const byteMutation: fc.Arbitrary<ByteMutation> = fc.oneof(
  fc.record({ op: fc.constant('flip' as const), at: fc.nat(), byte: fc.nat(255) }),
  fc.record({ op: fc.constant('cut' as const), at: fc.nat() }),
  fc.record({
    op: fc.constant('insert' as const),
    at: fc.nat(),
    bytes: fc.oneof(
      fc.uint8Array({ minLength: 1, maxLength: 8 }),
      // headers that claim a lot: str/bin/ext/array/map 32, and a BigInt over the limit
      fc.constantFrom(
        Uint8Array.of(0xdb, 0xff, 0xff, 0xff, 0xff),
        Uint8Array.of(0xc6, 0x7f, 0xff, 0xff, 0xff),
        Uint8Array.of(0xc9, 0x00, 0x10, 0x00, 0x00, 0x42),
        Uint8Array.of(0xdd, 0xff, 0xff, 0xff, 0xff),
        Uint8Array.of(0xdf, 0x00, 0x01, 0x00, 0x00),
        Uint8Array.of(0xd4, 0x62, 0x00),
        Uint8Array.of(0xd6, 0x69, 0, 0, 0, 1),
      ),
    ),
  }),
)

/** Every object and array inside `root` (itself included), in a fixed order. */
function containers(root: object): (Record<string, unknown> | unknown[])[] {
  const out: (Record<string, unknown> | unknown[])[] = []
  const visit = (v: unknown): void => {
    if (typeof v !== 'object' || v === null || ArrayBuffer.isView(v)) return
    if (Array.isArray(v)) {
      out.push(v)
      v.forEach(visit)
    } else if (Object.getPrototypeOf(v) === Object.prototype) {
      out.push(v as Record<string, unknown>)
      Object.values(v).forEach(visit)
    }
  }
  visit(root)
  return out
}

/** A deep copy of the plain parts of a fixture (bytes and class instances kept as they are). */
function copy(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(copy)
  if (typeof v === 'object' && v !== null && Object.getPrototypeOf(v) === Object.prototype) {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, copy(x)]))
  }
  return v
}

function mutate(messages: Message[], mutations: readonly Mutation[]): unknown[] {
  const root = copy(messages) as unknown[]
  for (const m of mutations) {
    const all = containers(root)
    const target = all[m.at % all.length]!
    const keys = Array.isArray(target) ? target.map((_, i) => i) : Object.keys(target)
    const key = keys.length === 0 ? undefined : keys[m.at % keys.length]!
    const t = target as Record<string | number, unknown>
    if (m.op === 'add') {
      Object.defineProperty(t, m.key, {
        value: m.value,
        enumerable: true,
        writable: true,
        configurable: true,
      })
    } else if (key !== undefined) {
      if (m.op === 'delete') delete t[key]
      else t[key] = m.value
    }
  }
  return root
}

function mutateBytes(bytes: Uint8Array, mutations: readonly ByteMutation[]): Uint8Array {
  let b = Buffer.from(bytes)
  for (const m of mutations) {
    const at = b.length === 0 ? 0 : m.at % b.length
    if (m.op === 'flip') b[at] = m.byte
    else if (m.op === 'cut') b = b.subarray(0, at)
    else b = Buffer.concat([b.subarray(0, at), m.bytes, b.subarray(at)])
  }
  return b
}

/** Encodes `value`, as a frame or as plain msgpack; `undefined` if the encoder refuses it. */
function tryEncode(value: unknown[], asFrame: boolean): Uint8Array | undefined {
  try {
    return asFrame ? encodeFrame(encoder, value as Message[]) : encoder.encode(value)
  } catch {
    return undefined
  }
}

function isFrameError(err: unknown): boolean {
  return err instanceof ProtocolError || err instanceof VersionMismatchError
}

for (const direction of Object.values(Direction)) {
  test(`fuzz: mutated ${direction} frames decode to valid messages or a frame error`, (t) => {
    const pick = fc.subarray(FIXTURES[direction], { minLength: 1 })
    fc.assert(
      fc.property(
        pick,
        fc.array(mutation, { maxLength: 3 }),
        fc.array(byteMutation, { maxLength: 2 }),
        fc.boolean(),
        (messages, mutations, byteMutations, asFrame) => {
          const encoded = tryEncode(mutate(messages, mutations), asFrame)
          fc.pre(encoded !== undefined)
          const bytes = mutateBytes(encoded, byteMutations)
          const started = performance.now()
          const r = decodeFrame(createDecoder(), bytes, direction)
          const elapsed = performance.now() - started
          if (elapsed > STALL_MS) throw new Error(`decoding took ${elapsed.toFixed(0)} ms`)
          if (!r.ok) {
            if (!isFrameError(r.error)) throw new Error(`not a frame error: ${String(r.error)}`)
            if (r.error.message.length > 1000) throw new Error('an error message over 1000 chars')
            return
          }
          // What was accepted validates again when sent on.
          const again = tryEncode(r.messages, true)
          if (again === undefined) return
          const r2 = decodeFrame(createDecoder(), again, direction)
          if (!r2.ok) throw new Error(`accepted, then refused when sent on: ${r2.error.message}`)
        },
      ),
      { numRuns: RUNS, seed: seedFor(direction), includeErrorInReport: true },
    )
    t.pass()
  })
}

test('fuzz: mutated hellos decode to a hello or a frame error', (t) => {
  const hellos = [
    ...FIXTURES[Direction.CLIENT_TO_COORDINATOR],
    ...FIXTURES[Direction.WORKER_TO_COORDINATOR],
  ].filter((m) => m.kind === 'hello')
  fc.assert(
    fc.property(
      fc.constantFrom(...hellos),
      fc.array(mutation, { maxLength: 3 }),
      fc.array(byteMutation, { maxLength: 2 }),
      (hello, mutations, byteMutations) => {
        const encoded = tryEncode(mutate([hello], mutations), false)
        fc.pre(encoded !== undefined)
        const r = decodeHello(createDecoder(), mutateBytes(encoded, byteMutations))
        if (!r.ok && !isFrameError(r.error)) throw new Error(`not a frame error: ${r.error}`)
      },
    ),
    { numRuns: RUNS, includeErrorInReport: true },
  )
  t.pass()
})

test('fuzz: any BigInt extension either decodes within the limit or is refused', (t) => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: MAX_BIGINT_BYTES + 64 }), (payload) => {
      const head = Buffer.alloc(6)
      head[0] = 0xc9
      head.writeUInt32BE(payload.length, 1)
      head[5] = 0x42
      // [ { kind: 'ping', seq: <BigInt> } ]
      const frame = Buffer.concat([
        Buffer.from('9182a46b696e64a470696e67a3736571', 'hex'),
        head,
        payload,
      ])
      const r = decodeFrame(createDecoder(), frame, Direction.CLIENT_TO_COORDINATOR)
      if (r.ok) throw new Error('a BigInt seq was accepted')
      if (!(r.error instanceof ProtocolError)) throw new Error(String(r.error))
      const refusedUnbuilt = /BigInt extension of \d+ bytes is over the limit/.test(r.error.message)
      if (refusedUnbuilt !== payload.length > MAX_BIGINT_BYTES) {
        throw new Error(`${payload.length} bytes: ${r.error.message}`)
      }
    }),
    { numRuns: 100, includeErrorInReport: true },
  )
  t.pass()
})

/** A fixed seed per direction, so a CI failure is reproducible; override with FC_SEED. */
function seedFor(direction: Direction): number {
  const env = Number(process.env.FC_SEED)
  if (Number.isInteger(env)) return env
  let h = 0
  for (const c of direction) h = (h * 31 + c.charCodeAt(0)) | 0
  return h
}
