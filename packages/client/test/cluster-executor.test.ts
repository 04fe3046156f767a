// ClusterExecutor over an in-process link, against a coordinator the test scripts message by message.
import { setImmediate as tick } from 'node:timers/promises'
import test from 'ava'
import {
  AbortedError,
  BrokenExecutorError,
  CancelledError,
  ConnectionLostError,
  DepRef,
  DependencyError,
  ErrorCode,
  ExecutorShutdownError,
  ProtocolError,
  TaskError,
  TaskTimeoutError,
  serializeError,
  sourceFnRef,
  type CoordinatorToClient,
} from '@clusterpool/protocol'

import { Future, task } from '../src/index.js'
import { ScriptedCoordinator } from './scripted-coordinator.js'

const add = (a: number, b: number): number => a + b
const double = (x: number): number => x * 2
const combine = (...parts: unknown[]): unknown[] => parts

/** Task 1 still pending on the coordinator, task 2 running on a worker. */
function pendingAndRunning(coord: ScriptedCoordinator): [Future<number>, Future<number>] {
  const futures: [Future<number>, Future<number>] = [
    coord.executor.submit(double, 1),
    coord.executor.submit(double, 2),
  ]
  coord.running(2)
  return futures
}

// ── submit and its answers ──────────────────────────────────────────────────────────────────

test('submit sends the function with its source once, then by hash, and the encoded arguments', async (t) => {
  const coord = new ScriptedCoordinator()
  const ex = coord.executor
  ex.submit(add, 1, 2)
  ex.submit(task(add, { timeoutMs: 500 }), 3, 4)
  ex.submit(double, 5)
  t.is(coord.of('submit').length, 1, 'one tick, one submit message')
  const [first, second, third] = coord.tasks()
  const ref = sourceFnRef(add)
  t.deepEqual(Object.keys(first!).sort(), ['args', 'fn', 'id'])
  t.is(first!.id, 1)
  t.deepEqual(first!.fn, ref)
  t.is(ref.source, Function.prototype.toString.call(add))
  t.deepEqual(coord.args(first!), [1, 2])
  t.is(second!.id, 2)
  t.deepEqual(second!.fn, { kind: 'source', hash: ref.hash, name: 'add' })
  t.deepEqual(second!.opts, { timeoutMs: 500 })
  t.deepEqual(coord.args(second!), [3, 4])
  t.deepEqual(third!.fn, sourceFnRef(double), 'another function comes with its own source')

  await tick()
  ex.submit(add, 5, 6)
  t.is(coord.of('submit').length, 2)
  t.deepEqual(coord.tasks()[3]!.fn, { kind: 'source', hash: ref.hash, name: 'add' })
})

test('running makes the future run; results resolve it with the decoded value and release the id', async (t) => {
  const coord = new ScriptedCoordinator()
  const f = coord.executor.submit(double, 21)
  t.is(f.key, 'double-1')
  t.false(f.running())
  coord.running(1)
  t.true(f.running())
  t.false(f.done())
  t.deepEqual(coord.ids('release'), [])
  const value = { n: 42, tags: new Map([['a', new Set([1, 2])]]), raw: new Uint8Array([7]) }
  coord.results([1, value])
  t.deepEqual(await f, value)
  t.deepEqual(coord.ids('release'), [1])
  coord.results([1, 'again'])
  t.deepEqual(await f, value, 'a second result for the id is ignored')
})

test('errors reject with the class the task threw: built-ins as themselves, ours by name and code', async (t) => {
  const coord = new ScriptedCoordinator()
  const ex = coord.executor
  const [f1, f2, f3] = [1, 2, 3].map((x) => ex.submit(double, x))
  const own = Object.assign(new Error('bad input', { cause: new RangeError('too big') }), {
    name: 'ValidationError',
    field: 'x',
  })
  coord.errors([1, new TypeError('x.map is not a function')], [2, new TaskTimeoutError(500)])
  coord.errors([3, own])
  const e1 = await t.throwsAsync(f1!.result(), { instanceOf: TypeError })
  t.is(e1.message, 'x.map is not a function')
  const e2 = await t.throwsAsync(f2!.result(), { instanceOf: TaskTimeoutError })
  t.is(e2.code, ErrorCode.TASK_TIMEOUT)
  t.regex(e2.message, /timeoutMs \(500 ms\)/)
  const e3 = await t.throwsAsync(f3!.result(), { instanceOf: TaskError })
  t.is(e3.name, 'ValidationError')
  t.is(e3.code, ErrorCode.TASK_FAILED)
  t.is((e3 as unknown as { field: string }).field, 'x')
  t.true(e3.cause instanceof RangeError)
  t.deepEqual(coord.ids('release'), [1, 2, 3])
})

// ── futures as arguments ────────────────────────────────────────────────────────────────────

test('an unfinished future argument travels as a dependency, a finished one as its value', async (t) => {
  const coord = new ScriptedCoordinator()
  const ex = coord.executor
  const pending = ex.submit(double, 1)
  const finished = ex.submit(double, 5)
  coord.results([2, 10])
  await finished
  ex.submit(combine, pending, { nested: [finished, pending] }, new Map([['k', pending]]))
  const t3 = coord.tasks()[2]!
  t.deepEqual(t3.deps, [1], 'each dependency once')
  const [a, b, c] = coord.args(t3)
  t.true(a instanceof DepRef)
  t.is((a as DepRef).id, 1)
  t.deepEqual(b, { nested: [10, new DepRef(1)] })
  t.deepEqual(c, new Map([['k', new DepRef(1)]]))
  t.false(pending.done(), 'the dependency itself is not fetched')
})

test('a failed future argument fails the task at once; a future of no executor is waited for here', async (t) => {
  const coord = new ScriptedCoordinator()
  const ex = coord.executor
  const failed = ex.submit(double, 1)
  coord.errors([1, new RangeError('nope')])
  await t.throwsAsync(failed.result())
  const g = ex.submit(double, failed)
  const e = await t.throwsAsync(g.result(), { instanceOf: DependencyError })
  t.regex(e.message, /double-1.*nope/)
  t.is(coord.tasks().length, 1, 'nothing sent for it')

  const outside = new Future<number>()
  const h = ex.submit(double, outside)
  await tick()
  t.is(coord.tasks().length, 1, 'held back until its argument is done')
  outside.setResult(4)
  await tick()
  const sent = coord.tasks()[1]!
  t.deepEqual(coord.args(sent), [4])
  t.is(sent.deps, undefined)
  coord.results([sent.id, 8])
  t.is(await h, 8)
})

// ── cancel ──────────────────────────────────────────────────────────────────────────────────

test('cancel of a pending task sends cancel; a running one is asked to abort and ends as it does', async (t) => {
  const coord = new ScriptedCoordinator()
  const [pending, running] = pendingAndRunning(coord)
  t.true(pending.cancel())
  t.true(pending.cancelled(), 'cancelled here at once, as in concurrent.futures')
  t.false(running.cancel())
  t.deepEqual(coord.ids('cancel'), [1, 2])
  coord.cancelled(1)
  t.true(pending.cancelled())
  await t.throwsAsync(pending.result(), { instanceOf: CancelledError })
  t.true(running.running())
  coord.errors([2, new AbortedError('aborted while running')])
  await t.throwsAsync(running.result(), { instanceOf: AbortedError })
  coord.results([1, 'late'])
  t.true(pending.cancelled(), 'a late result does not revive it')
  t.deepEqual(coord.ids('cancel'), [1, 2], 'each cancel sent once')
})

// ── results held on a worker ────────────────────────────────────────────────────────────────

test('a held result is gathered only when something awaits the future', async (t) => {
  const coord = new ScriptedCoordinator()
  const ex = coord.executor
  const f = ex.submit(double, 1)
  coord.running(1)
  coord.held(1, 200_000)
  t.true(f.running(), 'still not done here: its value is elsewhere')
  ex.submit(combine, f)
  const dep = coord.tasks()[1]!
  t.deepEqual(dep.deps, [1], 'a held future is passed on by reference')
  await tick()
  t.deepEqual(coord.ids('gather'), [])
  t.deepEqual(coord.ids('release'), [], 'the value is kept while the future lives')

  const p = f.result()
  const q = f.result()
  t.deepEqual(coord.ids('gather'), [1], 'fetched once')
  coord.results([1, 123_456])
  t.is(await p, 123_456)
  t.is(await q, 123_456)
  t.deepEqual(coord.ids('release'), [1])
})

test('done() and addDoneCallback() count as awaiting a held future', (t) => {
  const coord = new ScriptedCoordinator()
  const ex = coord.executor
  const [f, g] = [ex.submit(double, 1), ex.submit(double, 2)]
  coord.running(1, 2)
  coord.held(1)
  coord.held(2)
  t.false(f.done())
  g.addDoneCallback(() => {})
  t.deepEqual(coord.ids('gather'), [1, 2])
})

// ── map ─────────────────────────────────────────────────────────────────────────────────────

test('map sends one task per item and yields in order when results come out of order', async (t) => {
  const coord = new ScriptedCoordinator()
  const it = coord.executor.map(double, [1, 2, 3])
  const tasks = coord.tasks()
  t.deepEqual(
    tasks.map((x) => [x.id, coord.args(x), x.chunk]),
    [
      [1, [1], undefined],
      [2, [2], undefined],
      [3, [3], undefined],
    ],
  )
  const out: number[] = []
  const all = (async () => {
    for await (const v of it) out.push(v)
  })()
  coord.results([3, 6])
  await tick()
  t.deepEqual(out, [], 'the first item is not back yet')
  coord.results([1, 2])
  await tick()
  t.deepEqual(out, [2])
  coord.results([2, 4])
  await all
  t.deepEqual(out, [2, 4, 6])
})

test('map with chunksize sends chunks and unpacks their results, up to a failed item', async (t) => {
  const coord = new ScriptedCoordinator()
  const it = coord.executor.map(double, [1, 2, 3, 4, 5, 6], { chunksize: 2 })
  const tasks = coord.tasks()
  t.deepEqual(
    tasks.map((x) => [coord.args(x), x.chunk]),
    [
      [[[1, 2]], true],
      [[[3, 4]], true],
      [[[5, 6]], true],
    ],
  )
  coord.results([3, { v: [] }], [1, { v: [2, 4] }])
  coord.results([2, { v: [6], e: serializeError(new RangeError('4 is too big')) }])
  const out: number[] = []
  const error = await t.throwsAsync(
    (async () => {
      for await (const v of it) out.push(v)
    })(),
    { instanceOf: RangeError },
  )
  t.is(error.message, '4 is too big')
  t.deepEqual(out, [2, 4, 6])
})

// ── the link ────────────────────────────────────────────────────────────────────────────────

test('the link closing fails unfinished futures with ConnectionLostError and breaks the executor', async (t) => {
  const coord = new ScriptedCoordinator()
  const ex = coord.executor
  const [pending, running, held, finished] = [1, 2, 3, 4].map((x) => ex.submit(double, x))
  coord.running(2, 3)
  coord.held(3)
  coord.results([4, 8])
  coord.close(1006, 'coordinator gone')
  for (const f of [pending!, running!, held!]) {
    const e = await t.throwsAsync(f.result(), { instanceOf: ConnectionLostError })
    t.regex(e.message, /\(1006: coordinator gone\)/)
  }
  t.is(await finished!, 8)
  const e = t.throws(() => ex.submit(double, 5), { instanceOf: BrokenExecutorError })
  t.true(e.cause instanceof ConnectionLostError)
  t.throws(() => ex.map(double, [1]), { instanceOf: BrokenExecutorError })
  t.throws(() => ex.scatter(1), { instanceOf: BrokenExecutorError })
  await ex.shutdown()
  t.is(ex.state, 'shut-down')
})

test('what the client ignores: unknown kinds and ids, cluster, pong, and a second result', async (t) => {
  const coord = new ScriptedCoordinator()
  const ex = coord.executor
  const f = ex.submit(double, 1)
  t.notThrows(() => coord.send({ kind: 'telemetry', cpu: 3 } as unknown as CoordinatorToClient))
  coord.send({ kind: 'cluster', workers: 9, procs: 36 }, { kind: 'pong', seq: 4 })
  t.deepEqual(ex.cluster, { workers: 2, procs: 8 }, 'the figures of the welcome, as documented')
  t.is(ex.clientId, 'client-7')
  coord.running(99)
  coord.results([42, 'stray'])
  coord.errors([43, new Error('stray')])
  coord.cancelled(44)
  t.deepEqual(coord.ids('release'), [], 'nothing to release for ids it never used')
  t.false(f.running())
  coord.results([1, 2])
  t.is(await f, 2, 'the link still works')
})

test('an undecodable value fails only its future; a message without its list throws back to the sender', async (t) => {
  const coord = new ScriptedCoordinator()
  const ex = coord.executor
  const [f, g] = [ex.submit(double, 1), ex.submit(double, 2)]
  const truncated = new Uint8Array([0x92, 0x01]) // an array of two holding one
  coord.send({
    kind: 'results',
    items: [
      { id: 1, value: truncated },
      { id: 2, value: coord.encode(4) },
    ],
  })
  await t.throwsAsync(f.result(), { instanceOf: Error })
  t.is(await g, 4)
  t.deepEqual(coord.ids('release'), [1, 2])
  // Frames from a socket are checked before they reach the executor; over the loopback only
  // the in-process coordinator sends, and a malformed message throws in its own call.
  const h = ex.submit(double, 3)
  t.throws(() => coord.send({ kind: 'results' } as unknown as CoordinatorToClient), {
    instanceOf: TypeError,
  })
  coord.results([3, 6])
  t.is(await h, 6)
})

// ── shutdown ────────────────────────────────────────────────────────────────────────────────

test('shutdown({ cancelFutures: true }) cancels pending work, aborts running work, then closes', async (t) => {
  const coord = new ScriptedCoordinator()
  const ex = coord.executor
  const [pending, running] = pendingAndRunning(coord)
  const closed = ex.shutdown({ cancelFutures: true })
  t.true(pending.cancelled())
  t.deepEqual(coord.ids('cancel'), [1, 2])
  t.is(ex.state, 'shutting-down')
  t.throws(() => ex.submit(double, 3), { instanceOf: ExecutorShutdownError })
  await tick()
  t.is(coord.closedWith, undefined, 'the running task is still owed')
  coord.errors([2, new AbortedError()])
  await closed
  t.deepEqual(coord.closedWith, { code: 1000, reason: 'client shutdown' })
  t.is(ex.state, 'shut-down')
  await t.throwsAsync(running.result(), { instanceOf: AbortedError })
})

test('shutdown() waits for pending work before it closes the link', async (t) => {
  const coord = new ScriptedCoordinator()
  const ex = coord.executor
  const f = ex.submit(double, 1)
  const closed = ex.shutdown()
  await tick()
  t.is(coord.closedWith, undefined)
  t.deepEqual(coord.ids('cancel'), [])
  coord.results([1, 2])
  await closed
  t.is(await f, 2)
  t.deepEqual(coord.closedWith, { code: 1000, reason: 'client shutdown' })
})

// ── outcomes that arrive for tasks the client gave up on, and reports that make no sense ─

test('a results item with neither value nor held fails its future, not leave it pending', async (t) => {
  const coord = new ScriptedCoordinator()
  const f = coord.executor.submit(double, 1)
  coord.running(1)
  coord.send({ kind: 'results', items: [{ id: 1 }] }) // the coordinator's fallback in its `memory` case
  await t.throwsAsync(f.result(200), { instanceOf: ProtocolError })
})

test('a task cancelled while its running was on the way is released when its outcome comes', (t) => {
  const coord = new ScriptedCoordinator()
  const f = coord.executor.submit(double, 1)
  t.true(f.cancel()) // pending here; the coordinator has just handed it to a worker
  coord.running(1)
  coord.results([1, 2]) // the coordinator aborted it too late, and keeps the entry until a release
  t.deepEqual(coord.ids('release'), [1])
})
