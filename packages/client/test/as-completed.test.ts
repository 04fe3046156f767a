// The spirit of CPython's Lib/test/test_concurrent_futures/test_as_completed.py, on standalone futures.
import test from 'ava'
import { InvalidOptionError, TimeoutError } from '@clusterpool/protocol'
import { Future } from '../src/future/future.js'
import { asCompleted } from '../src/future/as-completed.js'
import { doneCallbackCount } from '../src/future/internal.js'

const later = (fn: () => void): void => {
  setTimeout(fn, 5)
}
const tick = (ms = 0): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

function make(state: 'pending' | 'running' | 'cancelled' | 'failed' | 'succeeded', key?: string) {
  const f = new Future<number>(key ?? state)
  if (state === 'running') f.setRunningOrNotifyCancel()
  if (state === 'cancelled') f.cancel()
  if (state === 'failed') f.setException(new Error('failed'))
  if (state === 'succeeded') f.setResult(42)
  return f
}

/**
 * Drains the iterator with `next()`. (`for await` works at run time, but TypeScript types its elements
 * as awaited: `Awaited<Future<T>>` is `T`, so loops below cast the element back to the Future it is.)
 */
async function collect<T>(it: AsyncIterator<Future<T>>): Promise<Future<T>[]> {
  const out: Future<T>[] = []
  for (let r = await it.next(); r.done !== true; r = await it.next()) out.push(r.value)
  return out
}

test('futures done at the call come first (in order), then in completion order', async (t) => {
  const ok = make('succeeded')
  const p1 = make('pending', 'p1')
  const cancelled = make('cancelled')
  const p2 = make('running', 'p2')
  const bad = make('failed')
  const it = asCompleted([ok, p1, cancelled, p2, bad])
  setTimeout(() => {
    p2.setResult(2)
    setTimeout(() => p1.setException(new Error('late')), 10)
  }, 10)
  t.deepEqual(await collect(it), [ok, cancelled, bad, p2, p1])
})

test('hands out the Future objects, not their results, and failures do not throw', async (t) => {
  const bad = make('failed')
  const cancelled = make('cancelled')
  const it = asCompleted([bad, cancelled])
  const first = await it.next()
  t.false(first.done)
  t.is(first.value, bad)
  t.true(first.value instanceof Future)
  t.is((await it.next()).value, cancelled)
  t.deepEqual(await it.next(), { done: true, value: undefined })
  t.is(it[Symbol.asyncIterator](), it)
})

test('a future listed many times comes once', async (t) => {
  const done = make('succeeded')
  const later = make('pending')
  const it = asCompleted([done, later, done, later, done, later])
  setTimeout(() => later.setResult(1), 5)
  t.deepEqual(await collect(it), [done, later])
})

test('two iterators over the same futures each get every future', async (t) => {
  const a = make('pending', 'a')
  const b = make('pending', 'b')
  const first = asCompleted([a, b, a])
  const second = asCompleted([b, a, b])
  t.is(doneCallbackCount(a), 2)
  later(() => {
    a.setResult(1)
    b.setResult(2)
  })
  t.deepEqual(await collect(first), [a, b])
  t.deepEqual(await collect(second), [a, b])
})

test('a pending future that gets cancelled is handed out', async (t) => {
  const f = make('pending')
  const it = asCompleted([f])
  const next = it.next()
  t.true(f.cancel())
  t.is((await next).value, f)
  t.true((await it.next()).done)
})

test('no futures: done at once', async (t) => {
  t.deepEqual(await asCompleted([]).next(), { done: true, value: undefined })
})

test('timeoutMs 0: yields what is done, then TimeoutError "N (of M) futures unfinished"', async (t) => {
  const futures = [make('cancelled'), make('pending'), make('running'), make('succeeded')]
  const it = asCompleted([...futures, futures[1]!], { timeoutMs: 0 })
  t.is((await it.next()).value, futures[0])
  t.is((await it.next()).value, futures[3])
  const error = await t.throwsAsync(it.next(), { instanceOf: TimeoutError })
  t.regex(error.message, /\b2 \(of 4\) futures unfinished/)
  t.deepEqual(await it.next(), { done: true, value: undefined }, 'the iteration ends after it')
  for (const f of futures) t.is(doneCallbackCount(f), 0)
})

test('timeout: what finished in time comes out, then TimeoutError; the rest are let go', async (t) => {
  const quick = make('pending', 'quick')
  const slow = make('pending', 'slow')
  const never = make('pending', 'never')
  setTimeout(() => quick.setResult(1), 5)
  const it = asCompleted([quick, slow, never], { timeoutMs: 100 })
  t.is((await it.next()).value, quick)
  const error = await t.throwsAsync(it.next(), { instanceOf: TimeoutError })
  t.regex(error.message, /\b2 \(of 3\) futures unfinished/)
  t.is(doneCallbackCount(slow), 0)
  t.is(doneCallbackCount(never), 0)
  slow.setResult(2)
  t.true((await it.next()).done)
  t.false(never.done(), 'the futures themselves are unaffected')
})

test('the timeout counts from the call, and finished futures still come out first', async (t) => {
  const done = make('pending')
  const never = make('pending')
  const it = asCompleted([done, never], { timeoutMs: 30 })
  done.setResult(1)
  await tick(80)
  t.is((await it.next()).value, done)
  await t.throwsAsync(it.next(), { instanceOf: TimeoutError, message: /1 \(of 2\)/ })
})

test('a timeout does not fire once everything is done', async (t) => {
  const a = make('pending')
  const it = asCompleted([a], { timeoutMs: 30 })
  a.setResult(1)
  await tick(60)
  t.is((await it.next()).value, a)
  t.true((await it.next()).done)
})

test('invalid timeoutMs throws InvalidOptionError naming the option', (t) => {
  for (const timeoutMs of [-5, NaN]) {
    const e = t.throws(() => asCompleted([make('pending')], { timeoutMs }), {
      instanceOf: InvalidOptionError,
    })
    t.true(e?.message.includes('options.timeoutMs'))
  }
})

test('several next() calls in flight are served in order, the extra ones with done', async (t) => {
  const a = make('pending', 'a')
  const b = make('pending', 'b')
  const it = asCompleted([a, b])
  const calls = [it.next(), it.next(), it.next()]
  b.setResult(2)
  a.setResult(1)
  const results = await Promise.all(calls)
  t.deepEqual(
    results.map((r) => r.value),
    [b, a, undefined],
  )
  t.true(results[2]!.done)
})

test('a timeout rejects the first waiting next() and ends the others', async (t) => {
  const a = make('pending')
  const it = asCompleted([a], { timeoutMs: 20 })
  const first = it.next()
  const second = it.next()
  await t.throwsAsync(first, { instanceOf: TimeoutError })
  t.true((await second).done)
  t.is(doneCallbackCount(a), 0)
})

test('return() (break) removes its callbacks and ends the iteration', async (t) => {
  const done = make('succeeded')
  const futures = Array.from({ length: 100_000 }, (_, i) => new Future<number>(`f${i}`))
  futures[3]!.setResult(3)
  const it = asCompleted([done, ...futures], { timeoutMs: 60_000 })
  t.is(doneCallbackCount(futures[0]!), 1)
  const seen: Future<number>[] = []
  for await (const element of it) {
    const f = element as unknown as Future<number>
    seen.push(f)
    if (seen.length === 2) break
  }
  t.deepEqual(seen, [done, futures[3]])
  t.true(futures.every((f) => doneCallbackCount(f) === 0))
  t.deepEqual(await it.next(), { done: true, value: undefined })
  // A waiting next() is ended by return() too.
  const other = asCompleted([make('pending')])
  const waiting = other.next()
  t.deepEqual(await other.return!(), { done: true, value: undefined })
  t.true((await waiting).done)
})

test('100k futures completing one by one come out in order and leave no callbacks', async (t) => {
  const n = 100_000
  const futures = Array.from({ length: n }, (_, i) => new Future<number>(`f${i}`))
  // Complete them in reverse, one each time the consumer has taken the previous one.
  let next = n - 1
  futures[next]!.setResult(next)
  const it = asCompleted(futures)
  let count = 0
  let leaked = 0
  let outOfOrder = 0
  for await (const element of it) {
    const f = element as unknown as Future<number>
    if (f !== futures[next]) outOfOrder++
    if (doneCallbackCount(f) !== 0) leaked++
    count++
    next--
    if (next >= 0) {
      const g = futures[next]!
      const value = next
      if (value % 2 === 0) g.setResult(value)
      else setImmediate(() => g.setResult(value))
    }
  }
  t.is(count, n)
  t.is(outOfOrder, 0)
  t.is(leaked, 0)
  t.true(futures.every((f) => doneCallbackCount(f) === 0))
})

test('100k futures completing in one burst queue up and drain', async (t) => {
  const n = 100_000
  const futures = Array.from({ length: n }, (_, i) => new Future<number>(`f${i}`))
  const it = asCompleted(futures)
  for (const f of futures) f.setResult(1)
  const out = await collect(it)
  t.is(out.length, n)
  t.is(out[0], futures[0])
  t.is(out[n - 1], futures[n - 1])
  t.is(new Set(out).size, n)
})

test('asCompleted() given something other than Futures throws a TypeError naming it', (t) => {
  const error = t.throws(() => asCompleted([new Future(), { done: true } as unknown as Future]), {
    instanceOf: TypeError,
  })
  t.regex(
    error.message,
    /asCompleted\(\) takes Futures \(what submit returns\); item 1 is a plain object/,
  )
})
