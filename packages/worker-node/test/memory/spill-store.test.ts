// The spill store on a real temporary folder: what is written reads back, a corrupt or missing
// file is a DataLostError, maxSpillBytes is a full disk, and close removes the folder.
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs'

import test from 'ava'

import { DataLostError } from '@clusterpool/protocol'

import { SpillFullError, SpillStore } from '../../src/daemon/memory/spill-store.js'

const bytes = (n: number, seed: number): Uint8Array =>
  Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff)

test('written values read back byte for byte, in a fresh folder that close() removes', async (t) => {
  const store = new SpillStore(undefined, Infinity)
  const a = bytes(100_000, 1)
  await store.write('client:1', a)
  await store.write('client/../2', bytes(10, 2)) // any key: files are named by its hash
  t.is(store.bytes, 100_010)
  t.true(Buffer.from(a).equals(await store.read('client:1', a.byteLength)))
  t.true(Buffer.from(bytes(10, 2)).equals(await store.read('client/../2', 10)))
  store.remove('client:1', a.byteLength)
  t.is(store.bytes, 10)
  t.true(existsSync(store.directory))
  store.close()
  t.false(existsSync(store.directory))
})

test('a corrupt, short or missing spill file is a DataLostError naming the key', async (t) => {
  const store = new SpillStore(undefined, Infinity)
  try {
    const v = bytes(4096, 3)
    await store.write('k1', v)
    const file = store.pathOf('k1')
    const copy = readFileSync(file)
    copy[100] = copy[100]! ^ 0xff
    writeFileSync(file, copy)
    await t.throwsAsync(store.read('k1', v.byteLength), {
      instanceOf: DataLostError,
      message: /k1 is corrupt: checksum mismatch/,
    })
    writeFileSync(file, copy.subarray(0, 1000))
    await t.throwsAsync(store.read('k1', v.byteLength), {
      instanceOf: DataLostError,
      message: /corrupt/,
    })
    rmSync(file)
    await t.throwsAsync(store.read('k1', v.byteLength), {
      instanceOf: DataLostError,
      message: /k1 could not be read/,
    })
  } finally {
    store.close()
  }
})

test('maxSpillBytes: a write that would pass it fails with SpillFullError and leaves no file', async (t) => {
  const store = new SpillStore(undefined, 1000)
  try {
    await store.write('a', bytes(600, 1))
    await t.throwsAsync(store.write('b', bytes(600, 2)), { instanceOf: SpillFullError })
    t.is(store.bytes, 600)
    t.false(existsSync(store.pathOf('b')))
    store.remove('a', 600)
    await store.write('b', bytes(600, 2))
    t.is(store.bytes, 600)
  } finally {
    store.close()
  }
})
