import test from 'ava'

import { detachBytes } from '../src/values/bytes.js'

test('detachBytes copies a small view out of a large Buffer, and keeps a value that owns its buffer', (t) => {
  const frame = Buffer.alloc(1 << 20, 7)
  const view = frame.subarray(100, 200) // what a Buffer's slice() also gives: a view
  const detached = detachBytes(view)
  t.not(detached.buffer, frame.buffer)
  t.deepEqual([...detached], [...view])
  frame.fill(0)
  t.is(detached[0], 7, 'a copy, not a view')
  const owner = new Uint8Array(100_000)
  t.is(detachBytes(owner), owner)
})
