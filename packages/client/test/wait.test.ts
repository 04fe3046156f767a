// The spirit of CPython's Lib/test/test_concurrent_futures/test_wait.py, on standalone futures.
import test from 'ava'
import { InvalidOptionError } from '@clusterpool/protocol'
import { Future } from '../src/future/future.js'
import { doneCallbackCount } from '../src/future/internal.js'
import { ALL_COMPLETED, FIRST_COMPLETED, FIRST_EXCEPTION, wait } from '../src/future/wait.js'
import type { ReturnWhen } from '../src/future/wait.js'

function make(state: 'pending' | 'running' | 'cancelled' | 'failed' | 'succeeded', key?: string) {
  const f = new Future<number>(key ?? state)
  if (state === 'running') f.setRunningOrNotifyCancel()
  if (state === 'cancelled') f.cancel()
  if (state === 'failed') f.setException(new Error('failed'))
  if (state === 'succeeded') f.setResult(42)
  return f
}

const later = (ms: number, fn: () => void): void => {
  setTimeout(fn, ms)
}

test('the constants are their names', (t) => {
  t.is(FIRST_COMPLETED, 'FIRST_COMPLETED')
  t.is(FIRST_EXCEPTION, 'FIRST_EXCEPTION')
  t.is(ALL_COMPLETED, 'ALL_COMPLETED')
})

test('a future listed twice counts once (bpo-20369)', async (t) => {
  const f = make('pending')
  later(5, () => f.setResult(1))
  const { done, notDone } = await wait([f, f])
  t.deepEqual([...done], [f])
  t.is(notDone.size, 0)
})

test('no futures: every returnWhen returns at once with empty sets', async (t) => {
  for (const returnWhen of [FIRST_COMPLETED, FIRST_EXCEPTION, ALL_COMPLETED] as const) {
    const { done, notDone } = await wait([], { returnWhen })
    t.is(done.size + notDone.size, 0)
  }
})

test('FIRST_COMPLETED returns when one future finishes', async (t) => {
  const slow = make('running', 'slow')
  const quick = make('pending', 'quick')
  later(10, () => quick.setResult(1))
  const { done, notDone } = await wait([slow, quick], { returnWhen: FIRST_COMPLETED })
  t.deepEqual([...done], [quick])
  t.deepEqual([...notDone], [slow])
  t.is(doneCallbackCount(slow), 0)
})

test('FIRST_COMPLETED counts a cancel as completion', async (t) => {
  const a = make('pending')
  const b = make('pending')
  later(10, () => b.cancel())
  const { done } = await wait([a, b], { returnWhen: FIRST_COMPLETED })
  t.deepEqual([...done], [b])
})

test('FIRST_COMPLETED with some already done returns at once', async (t) => {
  const cancelled = make('cancelled')
  const ok = make('succeeded')
  const p = make('pending')
  const { done, notDone } = await wait([cancelled, ok, p], { returnWhen: FIRST_COMPLETED })
  t.deepEqual(done, new Set([cancelled, ok]))
  t.deepEqual(notDone, new Set([p]))
  t.is(doneCallbackCount(p), 0)
})

test('FIRST_EXCEPTION returns when one future fails, not on successes', async (t) => {
  const never = make('running', 'never')
  const ok = make('pending', 'ok')
  const bad = make('pending', 'bad')
  later(5, () => ok.setResult(1))
  later(25, () => bad.setException(new Error('x')))
  const { done, notDone } = await wait([never, ok, bad], { returnWhen: FIRST_EXCEPTION })
  t.deepEqual(done, new Set([ok, bad]))
  t.deepEqual(notDone, new Set([never]))
  t.is(doneCallbackCount(never), 0)
})

test('FIRST_EXCEPTION with a failure already there returns at once', async (t) => {
  for (const others of [
    [make('succeeded'), make('cancelled'), make('pending')],
    [make('pending')],
  ]) {
    const bad = make('failed')
    const { done, notDone } = await wait([bad, ...others], { returnWhen: FIRST_EXCEPTION })
    t.true(done.has(bad))
    t.is(notDone.size, 1)
  }
})

test('FIRST_EXCEPTION does not count cancelled futures as failures', async (t) => {
  const cancelled = make('cancelled')
  const p = make('pending')
  const { done, notDone } = await wait([cancelled, p], {
    returnWhen: FIRST_EXCEPTION,
    timeoutMs: 40,
  })
  t.deepEqual(done, new Set([cancelled]))
  t.deepEqual(notDone, new Set([p]))

  const q = make('pending')
  const r = make('pending')
  later(5, () => q.cancel())
  later(15, () => r.setResult(1))
  const all = await wait([q, r], { returnWhen: FIRST_EXCEPTION })
  t.deepEqual(all.done, new Set([q, r]), 'without a failure it waits for all')
})

test('ALL_COMPLETED waits for every future (results, failures and cancels)', async (t) => {
  const fs = [
    make('succeeded'),
    make('failed'),
    make('cancelled'),
    make('pending'),
    make('running'),
  ]
  later(5, () => fs[3]!.cancel())
  later(10, () => fs[4]!.setException(new Error('late')))
  const { done, notDone } = await wait(fs)
  t.deepEqual(done, new Set(fs))
  t.is(notDone.size, 0)
})

test('timeout: returns the partition as it stands and never rejects', async (t) => {
  for (const returnWhen of [FIRST_COMPLETED, FIRST_EXCEPTION, ALL_COMPLETED] as ReturnWhen[]) {
    const ok = make('succeeded')
    const bad = make('failed')
    const p = make('pending')
    const fs = returnWhen === ALL_COMPLETED ? [ok, bad, p] : [p]
    const started = Date.now()
    const { done, notDone } = await wait(fs, { returnWhen, timeoutMs: 30 })
    t.true(Date.now() - started >= 25, returnWhen)
    t.deepEqual(done, new Set(fs.filter((f) => f !== p)))
    t.deepEqual(notDone, new Set([p]))
    t.is(doneCallbackCount(p), 0)
    t.false(p.done())
  }
})

test('timeoutMs 0 looks once', async (t) => {
  const ok = make('succeeded')
  const p = make('pending')
  const { done, notDone } = await wait([ok, p], { timeoutMs: 0 })
  t.deepEqual(done, new Set([ok]))
  t.deepEqual(notDone, new Set([p]))
  t.is(doneCallbackCount(p), 0)
})

test('a future finishing before the timeout wins over it', async (t) => {
  const p = make('pending')
  later(5, () => p.setResult(1))
  const { done } = await wait([p], { timeoutMs: 10_000 })
  t.deepEqual(done, new Set([p]))
})

test('invalid options reject with InvalidOptionError naming the option', async (t) => {
  const e1 = await t.throwsAsync(
    wait([make('pending')], { returnWhen: 'SOMETIMES' as ReturnWhen }),
    { instanceOf: InvalidOptionError },
  )
  t.true(e1?.message.includes('options.returnWhen'))
  const e2 = await t.throwsAsync(wait([make('pending')], { timeoutMs: -1 }), {
    instanceOf: InvalidOptionError,
  })
  t.true(e2?.message.includes('options.timeoutMs'))
})

test('repeated FIRST_COMPLETED waits over long-pending futures leave no callbacks', async (t) => {
  const futures = Array.from({ length: 10_000 }, (_, i) => new Future<number>(`f${i}`))
  let remaining = new Set(futures)
  for (let round = 0; round < 50; round++) {
    const f = futures[round * 7]!
    setImmediate(() => f.setResult(round))
    const { done, notDone } = await wait(remaining, { returnWhen: FIRST_COMPLETED })
    t.deepEqual([...done], [f])
    t.is(notDone.size, futures.length - round - 1)
    remaining = notDone
  }
  t.true(futures.every((f) => doneCallbackCount(f) === 0))
})

test('wait() given something other than Futures rejects with a TypeError naming it', async (t) => {
  const f = new Future<number>('ok')
  const promise = Promise.resolve(1)
  const pending = wait([f, promise as unknown as Future<number>])
  t.true(pending instanceof Promise, 'it rejects; it does not throw')
  const error = await t.throwsAsync(pending, { instanceOf: TypeError })
  t.regex(error.message, /item 1 is a Promise: pass the future itself/)
  await t.throwsAsync(wait(null as unknown as Future<number>[]), {
    instanceOf: TypeError,
    message: /iterable of Futures, got null/,
  })
  t.is(doneCallbackCount(f), 0, 'nothing was left on the good future')
})
