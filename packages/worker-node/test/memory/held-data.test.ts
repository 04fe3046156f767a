// Held values in memory and spilled: sizes, least-recently-used order, and what happens to a
// value released or replaced while its file is written.
import test from 'ava'

import { HeldData } from '../../src/daemon/held-data.js'

const v = (n: number): Uint8Array => new Uint8Array(n)

test('spill candidates come least recently used first; get and hold make a value the most recent', (t) => {
  const h = new HeldData()
  h.hold('a', v(1))
  h.hold('b', v(2))
  h.hold('c', v(3))
  h.get('a')
  t.deepEqual(
    [...h.spillCandidates()].map(([k]) => k),
    ['b', 'c', 'a'],
  )
})

test('markSpilled moves bytes to disk; restore brings them back; release says what was spilled', (t) => {
  const h = new HeldData()
  const a = v(10)
  h.hold('a', a)
  h.hold('b', v(5))
  t.true(h.markSpilled('a', a))
  t.is(h.memoryBytes, 5)
  t.is(h.spilledBytes, 10)
  t.is(h.spilledCount, 1)
  t.is(h.bytes, 15)
  t.is(h.get('a'), undefined, 'not in memory')
  t.true(h.has('a'))
  t.is(h.spilledSize('a'), 10)
  const back = v(10)
  t.true(h.restore('a', back))
  t.is(h.get('a'), back)
  t.is(h.spilledBytes, 0)
  t.true(h.markSpilled('a', back))
  t.is(h.release('a'), 10, 'the caller removes its file')
  t.is(h.release('b'), undefined)
  t.is(h.bytes, 0)
})

test('a value released or replaced while it was written is not marked spilled', (t) => {
  const h = new HeldData()
  const a = v(10)
  h.hold('a', a)
  h.hold('a', v(20))
  t.false(h.markSpilled('a', a))
  t.is(h.memoryBytes, 20)
  h.release('a')
  t.false(h.markSpilled('a', a))
  t.is(h.bytes, 0)
})

test('clear returns the spilled keys with their sizes', (t) => {
  const h = new HeldData()
  const a = v(10)
  h.hold('a', a)
  h.hold('b', v(1))
  h.markSpilled('a', a)
  t.deepEqual(h.clear(), [['a', 10]])
  t.is(h.bytes, 0)
})
