import test from 'ava'

import { UnsendableValueError } from '../src/errors/errors.js'
import {
  DEP_REF_EXTENSION_TYPE,
  DepRef,
  collectDeps,
  depRef,
  isDepRef,
  substituteDeps,
} from '../src/messages/dep-ref.js'
import { createDecoder, createEncoder, encodeValue } from '../src/values/codec.js'
import { checkSendable } from '../src/values/sendable.js'

const encoder = createEncoder()
const roundTrip = (v: unknown) => createDecoder().decode(encodeValue(encoder, v, 'args'))
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')

test('a DepRef is msgpack extension 0x44 holding its id', (t) => {
  t.is(DEP_REF_EXTENSION_TYPE, 0x44)
  t.is(hex(encodeValue(encoder, depRef(5), 'x')), 'd4440005')
  t.is(hex(encodeValue(encoder, [depRef(300)], 'x')), '91d44400cd012c')
  const back = createDecoder().decode(Buffer.from('d4440005', 'hex'))
  t.true(back instanceof DepRef)
  t.is((back as DepRef).id, 5)
})

test('DepRefs round trip anywhere inside arguments', (t) => {
  const args = [
    depRef(0),
    { a: [1, depRef(1)], m: new Map<unknown, unknown>([['k', depRef(2)]]) },
    new Set([depRef(3)]),
    'plain',
  ]
  const back = roundTrip(args) as unknown[]
  t.deepEqual(back, args)
  t.true(isDepRef(back[0]))
  t.deepEqual(collectDeps(back), [0, 1, 2, 3])
})

test('malformed DepRef extensions are refused by the decoder', (t) => {
  const decoder = createDecoder()
  for (const bad of ['d44400a178', 'd44400ff', 'd44400cb3ff8000000000000', 'd44400c0']) {
    t.throws(() => decoder.decode(Buffer.from(bad, 'hex')), {
      message: 'malformed dependency reference (msgpack extension 0x44)',
    })
  }
})

test('depRef checks its id', (t) => {
  t.throws(() => depRef(-1), { instanceOf: TypeError })
  t.throws(() => depRef(1.5), { instanceOf: TypeError })
  t.throws(() => depRef(Number.NaN), { instanceOf: TypeError })
  t.is(depRef(0).id, 0)
})

test('checkSendable accepts DepRefs and still refuses other class instances', (t) => {
  t.notThrows(() => checkSendable([depRef(1), { x: depRef(2) }], 'args'))
  class Point {
    constructor(readonly x: number) {}
  }
  const err = t.throws(() => checkSendable([depRef(1), new Point(1)], 'args'), {
    instanceOf: UnsendableValueError,
  })
  t.is(err.path, 'args[1]')
  t.is(err.valueType, 'Point instance')
})

test('collectDeps lists each id once, in the order first met', (t) => {
  t.deepEqual(collectDeps([depRef(3), { a: depRef(1), b: [depRef(3)] }, depRef(2)]), [3, 1, 2])
  t.deepEqual(collectDeps([1, 'a', null, undefined, new Date(), Buffer.from('x')]), [])
  t.deepEqual(collectDeps(depRef(9)), [9])
  t.deepEqual(collectDeps(new Map([[depRef(4), depRef(5)]])), [4, 5])
})

test('substituteDeps replaces every DepRef', (t) => {
  const value = [
    depRef(1),
    { a: depRef(2), b: 'keep' },
    new Map<unknown, unknown>([[depRef(1), depRef(2)]]),
    new Set([depRef(1)]),
  ]
  const values = new Map<number, unknown>([
    [1, 'one'],
    [2, { two: 2 }],
  ])
  const out = substituteDeps(value, (id) => values.get(id))
  t.deepEqual(out, [
    'one',
    { a: { two: 2 }, b: 'keep' },
    new Map<unknown, unknown>([['one', { two: 2 }]]),
    new Set(['one']),
  ])
  // The input is untouched.
  t.true(isDepRef(value[0]))
})

test('substituteDeps copies only the paths that lead to a DepRef', (t) => {
  const untouched = { deep: [1, 2, 3] }
  const value = { untouched, list: [untouched, depRef(0)] }
  const out = substituteDeps(value, () => 'x') as typeof value
  t.not(out, value)
  t.is(out.untouched, untouched)
  t.is(out.list[0], untouched)
  t.is<unknown, unknown>(out.list[1], 'x')

  const none = { a: [1, { b: new Map([[1, 2]]) }], s: new Set([1]) }
  t.is(
    substituteDeps(none, () => t.fail()),
    none,
  )
})

test('substituteDeps keeps an own __proto__ key a key', (t) => {
  const value = JSON.parse('{"__proto__": 1, "x": null}') as Record<string, unknown>
  value.x = depRef(0)
  const out = substituteDeps(value, () => 'dep') as Record<string, unknown>
  t.is(Object.getPrototypeOf(out), Object.prototype)
  t.deepEqual(Object.keys(out), ['__proto__', 'x'])
  t.is(out.x, 'dep')
})

test('substituteDeps lets lookup errors through', (t) => {
  t.throws(
    () =>
      substituteDeps([depRef(7)], (id) => {
        throw new Error(`no dependency ${id}`)
      }),
    { message: 'no dependency 7' },
  )
})
