// The pool's pure parts: frames fed as raw bytes, message parsing, the dispatch policy, the
// queue, and option validation.
import test from 'ava'

import { InvalidOptionError } from '@clusterpool/protocol'

import { TaskPool } from '../src/index.js'
import {
  DispatchLimits,
  FrameReader,
  FrameTooLargeError,
  PoolQueue,
  RSS_GROWTH_BYTES_PER_MS,
  RSS_GUARD_INTERVAL_MS,
  SHARE_REREAD_MS,
  ToChildKind,
  ToParentKind,
  canAccept,
  createBatchEncoder,
  createChildBatchDecoder,
  createParentBatchDecoder,
  encodePipeFrame,
  formatShares,
  guardWaitMs,
  shareOf,
  parseToChild,
  parseToParent,
  resolvePoolOptions,
  shouldReclaim,
} from '../src/internal.js'

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s/g, ''), 'hex')

test('encodePipeFrame prefixes the payload with its big-endian length', (t) => {
  t.is(encodePipeFrame(hex('c3')).toString('hex'), '00000001c3')
  t.is(encodePipeFrame(new Uint8Array(0)).toString('hex'), '00000000')
  t.is(encodePipeFrame(Buffer.alloc(258, 0xaa)).subarray(0, 4).toString('hex'), '00000102')
})

test('FrameReader reassembles frames from any split of the stream', (t) => {
  const stream = hex('00000002 c0c3  00000000  00000003 010203  00000001 ff')
  const expected = ['c0c3', '', '010203', 'ff']
  for (let size = 1; size <= stream.length; size++) {
    const reader = new FrameReader()
    const got: string[] = []
    for (let i = 0; i < stream.length; i += size) {
      for (const f of reader.push(stream.subarray(i, i + size))) got.push(f.toString('hex'))
    }
    t.deepEqual(got, expected, `chunks of ${size}`)
    t.is(reader.bufferedBytes, 0)
  }
})

test('FrameReader refuses a frame longer than its limit', (t) => {
  const reader = new FrameReader(16)
  t.deepEqual(
    reader.push(hex('00000010')).map((f) => f.length),
    [],
  )
  const error = t.throws(() => new FrameReader(16).push(hex('00000011 00')), {
    instanceOf: FrameTooLargeError,
  })
  t.regex(error.message, /17 bytes, more than the 16 allowed/)
})

test('batches round-trip, and bin values come back as copies in the parent', (t) => {
  const encoder = createBatchEncoder()
  const args = new Uint8Array([0x91, 0x01])
  const toChild = [
    [ToChildKind.DEFINE, 1, { kind: 'source', hash: 'h', source: 'x => x', name: '' }],
    [ToChildKind.RUN, 7, 1, args, 1, 0],
    [ToChildKind.ABORT, 7],
    [ToChildKind.FORGET, 1],
    [ToChildKind.STOP],
    [ToChildKind.RECLAIM],
  ] as const
  t.deepEqual(
    createChildBatchDecoder().decode(encoder.encode(toChild)),
    toChild.map((m) => m.map((v) => (v === args ? Buffer.from(args) : v))),
  )
  const frame = Buffer.from(
    encoder.encode([
      [ToParentKind.RESULT, 7, new Uint8Array([0x2a]), 12],
      [ToParentKind.ERROR, 8, { name: 'TypeError', message: 'x' }, 3],
      [ToParentKind.FATAL, null, { name: 'Error', message: 'boom' }, 'uncaughtException'],
      [ToParentKind.EXITING, 9, 3],
      [ToParentKind.RETURNED, [4, 5]],
    ]),
  )
  const decoded = createParentBatchDecoder().decode(frame)
  const value = decoded[0]![2] as Uint8Array
  t.deepEqual([...value], [0x2a])
  t.not(value.buffer, frame.buffer)
  t.deepEqual(decoded[3], [ToParentKind.EXITING, 9, 3])
})

test('malformed messages are refused', (t) => {
  const bad: unknown[] = [
    {},
    [{}],
    [[99]],
    [[ToChildKind.RUN, 1, 1, 'not bytes', 1]],
    [[ToChildKind.DEFINE, 1, { kind: 'source', hash: 'h' }]],
    [[ToChildKind.STOP, 'extra']],
  ]
  for (const b of bad) t.throws(() => parseToChild(b), undefined, JSON.stringify(b))
  t.throws(() => parseToParent([[ToParentKind.RESULT, 1.5, new Uint8Array(), 1]]))
  t.throws(() => parseToParent([[ToParentKind.ERROR, 1, { name: 'E' }, 1]]))
  t.throws(() => parseToParent([[ToParentKind.FATAL, null, { name: 'E', message: 'm' }]]))
  t.throws(() => parseToParent([[ToParentKind.RETURNED, [1, 'x']]]))
  t.deepEqual(parseToParent([[ToParentKind.EXITING, null, 0]]), [[ToParentKind.EXITING, null, 0]])
})

test('dispatch: who may take one more task', (t) => {
  const load = (
    inFlight: number,
    estimatedMs: number,
    unknownInFlight = 0,
    overrunMs = 0,
    headEstimateMs = inFlight === 1 ? estimatedMs : NaN,
  ) => ({
    inFlight,
    estimatedMs,
    unknownInFlight,
    overrunMs,
    headEstimateMs,
  })
  const { MAX_DEPTH, TARGET_QUEUED_MS } = DispatchLimits
  const cases: [ReturnType<typeof load>, number, boolean, string][] = [
    [load(0, 0), NaN, true, 'an idle child takes an unknown function'],
    [load(0, 0), 5_000, true, 'an idle child takes a slow one'],
    [load(1, 0.01), NaN, false, 'a busy child takes no unknown function'],
    [load(1, NaN, 1), 0.01, false, 'nor anything behind an unknown one'],
    [load(1, 0.01), 0.01, true, 'fast behind fast'],
    [load(10, TARGET_QUEUED_MS - 0.01), 0.01, true, 'until the target'],
    [load(10, TARGET_QUEUED_MS), 0.01, false, 'not past it'],
    [load(1, 0.01, 0, TARGET_QUEUED_MS), 0.01, false, 'a head past its estimate counts'],
    [load(MAX_DEPTH, 0), 0, false, 'at most MAX_DEPTH'],
    [load(1, 50), 0.01, false, 'nothing behind a slow task'],
    [load(1, 2), 2, true, 'one behind a short task: the child never idles for the hop'],
    [load(2, 4, 0, 0, 2), 2, false, 'but only one of its length'],
    [load(1, 2, 0, TARGET_QUEUED_MS), 2, false, 'and none behind a short one overrunning'],
  ]
  for (const [l, estimate, expected, why] of cases) t.is(canAccept(l, estimate), expected, why)
  const { RECLAIM_OVERRUN_MS } = DispatchLimits
  t.true(shouldReclaim(load(2, 0.01, 0, RECLAIM_OVERRUN_MS + 1)), 'waiting tasks behind an overrun')
  t.false(shouldReclaim(load(1, 0.01, 0, RECLAIM_OVERRUN_MS + 1)), 'nothing waiting')
  t.false(shouldReclaim(load(9, 0.01, 0, RECLAIM_OVERRUN_MS - 1)), 'not overrun enough')
})

test('PoolQueue: FIFO, lazy removal, requeue at the front in order', (t) => {
  const entry = (id: number) =>
    ({ id, state: 'queued' }) as unknown as Parameters<PoolQueue['push']>[0]
  const q = new PoolQueue()
  const [a, b, c, d, e] = [entry(1), entry(2), entry(3), entry(4), entry(5)]
  for (const x of [a, b, c]) q.push(x)
  q.remove(b)
  t.is(q.size, 2)
  t.is(q.shift()?.id, 1)
  q.pushFront([d, e])
  t.is(q.size, 3)
  t.deepEqual(
    q.drain().map((x) => x.id),
    [4, 5, 3],
  )
  t.is(q.peek(), undefined)
})

test('options are validated once, naming the option', (t) => {
  const events = { onStart() {}, onResult() {}, onError() {} }
  const cases: [unknown, RegExp][] = [
    [{ kind: 'fork' }, /^kind must be 'process' or 'thread', got "fork"$/],
    [{ kind: 'process', maxWorkers: 0 }, /^maxWorkers must be a positive integer, got 0$/],
    [{ kind: 'process', maxWorkers: 1.5 }, /^maxWorkers must be a positive integer/],
    [
      { kind: 'thread', maxTasksPerChild: -1 },
      /^maxTasksPerChild must be a positive integer or Infinity/,
    ],
    [
      { kind: 'thread', taskTimeoutMs: 0 },
      /^taskTimeoutMs must be a positive number of milliseconds/,
    ],
    [{ kind: 'thread', idleTimeoutMs: Infinity }, /^idleTimeoutMs must be a positive number/],
    [{ kind: 'thread', memoryLimitMb: '64' }, /^memoryLimitMb must be a positive number of MiB/],
    [{ kind: 'thread', execArgv: '--x' }, /^execArgv must be an array of strings$/],
    [{ kind: 'thread', env: { A: 1 } }, /^env must be an object whose values are strings$/],
    [{ kind: 'thread', maxworkers: 2 }, /^maxworkers is not a TaskPool option$/],
  ]
  for (const [options, message] of cases) {
    const error = t.throws(() => new TaskPool(options as never, events), {
      instanceOf: InvalidOptionError,
    })
    t.regex(error.message, message)
  }
  t.throws(() => new TaskPool({ kind: 'thread' }, {} as never), { message: /events.onStart/ })
  const resolved = resolvePoolOptions({ kind: 'process' })
  t.true(resolved.maxWorkers >= 1)
  t.is(resolved.maxTasksPerChild, Infinity)
  t.true(Object.isFrozen(resolved))
})

test('submit checks the task', (t) => {
  const pool = new TaskPool({ kind: 'thread' }, { onStart() {}, onResult() {}, onError() {} })
  const fn = { kind: 'source', hash: 'h', source: '() => 1', name: '' } as const
  t.throws(() => pool.submit({ id: 1, fn, args: [] as never }), { message: /task.args/ })
  t.throws(() => pool.submit({ id: 1, fn: {} as never, args: new Uint8Array() }), {
    message: /task.fn/,
  })
  t.throws(() => pool.submit({ id: 1, fn, args: new Uint8Array([0x90]), timeoutMs: -1 }), {
    message: /task 1 timeoutMs must be a positive number/,
  })
  t.is(pool.stats.queued, 0)
})

test('FnRegistry: module refs whose url#export spell alike are two functions', async (t) => {
  const { FnRegistry } = await import('../src/runtime/fn-registry.js')
  const r = new FnRegistry()
  const a = r.lookup({ kind: 'module', url: 'file:///a.js#b', exportName: 'c' })
  const b = r.lookup({ kind: 'module', url: 'file:///a.js', exportName: 'b#c' })
  t.not(a.id, b.id)
  t.is(b.ref.kind === 'module' ? b.ref.exportName : '', 'b#c')
  t.is(r.lookup({ kind: 'module', url: 'file:///a.js', exportName: 'b#c' }).id, b.id, 'same ref')
  const s = r.lookup({ kind: 'source', hash: 'm:["file:///a.js","b#c"]', source: '', name: '' })
  t.not(s.id, b.id, 'a source hash never passes for a module key')
})

test('the memory guard waits as long as the process could take to grow to its share, within bounds', (t) => {
  const pace = { intervalMs: RSS_GUARD_INTERVAL_MS, growthBytesPerMs: RSS_GROWTH_BYTES_PER_MS }
  const mb = 2 ** 20
  // Far under its share: until the next re-read of the share, no longer.
  t.is(guardWaitMs(100 * mb, 64_000 * mb, SHARE_REREAD_MS, pace), SHARE_REREAD_MS)
  t.is(guardWaitMs(100 * mb, 64_000 * mb, 30, pace), 30)
  // Halfway: the time it takes to grow the rest at the assumed rate.
  const headroom = 20 * RSS_GROWTH_BYTES_PER_MS
  t.is(guardWaitMs(100 * mb, 100 * mb + headroom, SHARE_REREAD_MS, pace), 20)
  // Near or past the share, and with no share yet read: the shortest wait, as before.
  t.is(guardWaitMs(100 * mb, 101 * mb, SHARE_REREAD_MS, pace), RSS_GUARD_INTERVAL_MS)
  t.is(guardWaitMs(200 * mb, 100 * mb, SHARE_REREAD_MS, pace), RSS_GUARD_INTERVAL_MS)
  t.is(guardWaitMs(100 * mb, Infinity, SHARE_REREAD_MS, pace), SHARE_REREAD_MS)
  t.is(guardWaitMs(100 * mb, Infinity, -3, pace), RSS_GUARD_INTERVAL_MS)
})

test('the share file: one share for all, and a share of its own for some processes', (t) => {
  t.is(formatShares(100.7), '100')
  const text = formatShares(
    100,
    new Map([
      [41, 250],
      [42, 90.5],
    ]),
  )
  t.is(text, '100\n41 250\n42 90')
  t.is(shareOf(text, 41), 250)
  t.is(shareOf(text, 42), 90)
  t.is(shareOf(text, 7), 100, 'a process not listed has the common share')
  t.is(shareOf('64000000', 41), 64_000_000, 'a file of one number, as before')
  t.true(Number.isNaN(shareOf('', 41)) || shareOf('', 41) === 0)
})
