// Finding futures inside task arguments: values in their place, placeholders for dependencies,
// circular and shared values handled without blowing up.
import test from 'ava'

import { classifyDone, futuresIn, replaceFutures } from '../src/executor/future-args.js'
import { Future } from '../src/future/future.js'

const done = <T>(value: T): Future<T> => {
  const f = new Future<T>()
  f.setResult(value)
  return f
}

test('finished futures are replaced by their values at any depth; untouched parts stay shared', (t) => {
  const untouched = { big: [1, 2, 3] }
  const args = [done(1), { list: [done(2), untouched], map: new Map([['k', done(3)]]) }]
  const r = replaceFutures(args, (f) => classifyDone(f) ?? { kind: 'foreign' })
  if (!('args' in r)) return t.fail('expected arguments')
  const [one, rest] = r.args as [number, { list: unknown[]; map: Map<string, unknown> }]
  t.is(one, 1)
  t.is(rest.list[0], 2)
  t.is(rest.list[1], untouched, 'a part without futures is not copied')
  t.is(rest.map.get('k'), 3)
})

test('a value shared by many parents is walked once, and stays one value', (t) => {
  // A diamond 40 levels deep: 2^40 paths, one object per level.
  let node: Record<string, unknown> = { leaf: done('x') }
  for (let i = 0; i < 40; i++) node = { left: node, right: node }
  const started = performance.now()
  const r = replaceFutures([node], (f) => classifyDone(f) ?? { kind: 'foreign' })
  t.true(performance.now() - started < 1000, 'not exponential')
  if (!('args' in r)) return t.fail('expected arguments')
  const top = r.args[0] as { left: unknown; right: unknown }
  t.is(top.left, top.right, 'the shared child is shared in the copy too')
})

test('circular values and very deep ones are left as they are, for the encoder to refuse', (t) => {
  const circular: Record<string, unknown> = { f: done(1) }
  circular.self = circular
  const r = replaceFutures([circular], (f) => classifyDone(f) ?? { kind: 'foreign' })
  if (!('args' in r)) return t.fail('expected arguments')
  const copy = r.args[0] as Record<string, unknown>
  t.is(copy.f, 1)
  let deep: unknown = done(5)
  for (let i = 0; i < 20_000; i++) deep = [deep]
  t.notThrows(() => replaceFutures([deep], () => ({ kind: 'foreign' })))
})

test('futuresIn lists each future once, and only those selected', (t) => {
  const a = new Future<number>()
  const b = done(2)
  t.deepEqual(
    futuresIn([a, [a, b], { a }], (f) => !f.done()),
    [a],
  )
})
