import test from 'ava'

import { InvalidTaskError, SourceCache, sourceHash, type WireSourceFnRef } from '../src/index.js'

function wire(source: string, name = 'f', withSource = true): WireSourceFnRef {
  const hash = sourceHash(source)
  return withSource ? { kind: 'source', hash, source, name } : { kind: 'source', hash, name }
}

test('a source is kept under its own hash and found again by hash alone', (t) => {
  const cache = new SourceCache()
  const ref = cache.resolve(wire('(x) => x + 1'))
  t.is(ref?.source, '(x) => x + 1')
  t.is(cache.resolve(wire('(x) => x + 1', 'f', false))?.source, '(x) => x + 1')
  t.is(cache.get(sourceHash('(x) => x + 1'))?.name, 'f')
  t.is(cache.resolve(wire('(x) => x + 2', 'g', false)), undefined, 'never sent: unknown')
})

test('a source that does not hash to its hash is refused, and the honest one stays', (t) => {
  const cache = new SourceCache()
  const honest = wire('(x) => x * 2')
  cache.resolve(honest, true)
  const forged: WireSourceFnRef = { ...honest, source: '(x) => -777' }
  const e = t.throws(() => cache.resolve(forged), { instanceOf: InvalidTaskError })
  t.regex(e.message, /does not match its hash/)
  t.is(cache.get(honest.hash)?.source, '(x) => x * 2')
  // A forged hash for a source never seen is refused too, and nothing is kept.
  const fresh = new SourceCache()
  t.throws(() => fresh.resolve({ kind: 'source', hash: honest.hash, source: 'evil', name: '' }), {
    instanceOf: InvalidTaskError,
  })
  t.is(fresh.size, 0)
})

test('held sources are never dropped; idle ones go least recently used first', (t) => {
  const cache = new SourceCache({ idleEntries: 2, idleBytes: 1e9 })
  const a = wire('() => "a"')
  const b = wire('() => "b"')
  const c = wire('() => "c"')
  const d = wire('() => "d"')
  cache.resolve(a, true) // held
  cache.resolve(b)
  cache.resolve(c)
  cache.resolve(wire('() => "b"', 'f', false)) // b used again: c is now the oldest idle
  cache.resolve(d) // three idle: the oldest (c) goes
  t.truthy(cache.get(a.hash), 'held')
  t.truthy(cache.get(b.hash))
  t.falsy(cache.get(c.hash))
  t.truthy(cache.get(d.hash))
  t.is(cache.size, 3)
  t.is(cache.idleSize, 2)
  cache.release(a.hash) // a turns idle and is the newest: b goes
  t.truthy(cache.get(a.hash))
  t.falsy(cache.get(b.hash))
})

test('idle bytes are bounded; held bytes are not', (t) => {
  const cache = new SourceCache({ idleBytes: 1000, idleEntries: 1e6 })
  const big = (i: number): WireSourceFnRef => wire(`() => ${JSON.stringify('x'.repeat(300) + i)}`)
  for (let i = 0; i < 100; i++) cache.resolve(big(i))
  t.true(cache.bytes <= 1000, `${cache.bytes} bytes kept`)
  t.true(cache.idleSize >= 2)
  const held = Array.from({ length: 10 }, (_, i) => big(1000 + i))
  for (const ref of held) cache.resolve(ref, true)
  for (const ref of held) t.truthy(cache.get(ref.hash))
  for (const ref of held) cache.release(ref.hash)
  t.true(cache.bytes <= 1000, 'released holds turn idle and are bounded again')
})

test('acquire and release count holders; unknown hashes are refused', (t) => {
  const cache = new SourceCache({ idleEntries: 0 })
  const a = wire('() => 1')
  t.false(cache.acquire(a.hash))
  cache.resolve(a, true)
  t.true(cache.acquire(a.hash))
  cache.release(a.hash)
  t.truthy(cache.get(a.hash), 'one holder left')
  cache.release(a.hash)
  t.falsy(cache.get(a.hash), 'idle with no idle room: dropped')
  cache.release(a.hash) // a release too many is harmless
  t.is(cache.size, 0)
  t.is(cache.bytes, 0)
})

test('a source bigger than the idle room is still kept while held', (t) => {
  const cache = new SourceCache({ idleBytes: 10 })
  const huge = wire(`() => ${JSON.stringify('y'.repeat(100))}`)
  t.truthy(cache.resolve(huge, true))
  t.truthy(cache.get(huge.hash))
  cache.release(huge.hash)
  t.falsy(cache.get(huge.hash))
})
