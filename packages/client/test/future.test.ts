// The spirit of CPython's Lib/test/test_concurrent_futures/test_future.py, on standalone futures.
import { inspect } from 'node:util'
import test from 'ava'
import {
  CancelledError,
  ErrorCode,
  InvalidOptionError,
  InvalidStateError,
  TimeoutError,
} from '@clusterpool/protocol'
import { Future } from '../src/future/future.js'
import {
  doneCallbackCount,
  hasDoneCallback,
  isFuture,
  peek,
  removeDoneCallback,
  setAbortHandler,
  setFutureErrorLogger,
  settledState,
} from '../src/future/internal.js'
import { asCompleted } from '../src/future/as-completed.js'
import { FIRST_EXCEPTION, wait } from '../src/future/wait.js'

// ── one future in each state, as CPython's PENDING_FUTURE, RUNNING_FUTURE, ... ──────────────────

const pending = (): Future<number> => new Future<number>('pending')
const running = (): Future<number> => {
  const f = new Future<number>('running')
  f.setRunningOrNotifyCancel()
  return f
}
const cancelled = (): Future<number> => {
  const f = new Future<number>('cancelled')
  f.cancel()
  return f
}
const cancelledAndNotified = (): Future<number> => {
  const f = new Future<number>('cancelled-notified')
  f.cancel()
  f.setRunningOrNotifyCancel()
  return f
}
const failed = (error: Error = new RangeError('boom')): Future<number> => {
  const f = new Future<number>('failed')
  f.setException(error)
  return f
}
const succeeded = (value = 42): Future<number> => {
  const f = new Future<number>('succeeded')
  f.setResult(value)
  return f
}

const STATES = {
  pending: { make: pending, cancelled: false, running: false, done: false, shown: 'pending' },
  running: { make: running, cancelled: false, running: true, done: false, shown: 'running' },
  cancelled: { make: cancelled, cancelled: true, running: false, done: true, shown: 'cancelled' },
  cancelledAndNotified: {
    make: cancelledAndNotified,
    cancelled: true,
    running: false,
    done: true,
    shown: 'cancelled',
  },
  failed: { make: () => failed(), cancelled: false, running: false, done: true, shown: 'finished' },
  succeeded: {
    make: () => succeeded(),
    cancelled: false,
    running: false,
    done: true,
    shown: 'finished',
  },
}

/** Collects what the future module logs (callback and abort-handler errors) during `fn`. */
function captureLogs(fn: () => void): [string, unknown][] {
  const logs: [string, unknown][] = []
  const previous = setFutureErrorLogger((message, error) => logs.push([message, error]))
  try {
    fn()
  } finally {
    setFutureErrorLogger(previous)
  }
  return logs
}

const tick = (ms = 0): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

// ── states ──────────────────────────────────────────────────────────────────────────────────────

for (const [name, s] of Object.entries(STATES)) {
  test(`${name}: cancelled(), running(), done(), toString() and inspect`, (t) => {
    const f = s.make()
    t.is(f.cancelled(), s.cancelled)
    t.is(f.running(), s.running)
    t.is(f.done(), s.done)
    t.is(String(f), `Future<${f.key}> {${s.shown}}`)
    t.is(inspect(f), `Future<${f.key}> {${s.shown}}`)
    t.is(Object.prototype.toString.call(f), '[object Future]')
  })
}

test('default keys are future-<n> and distinct; explicit keys are kept', (t) => {
  const a = new Future()
  const b = new Future()
  t.regex(a.key, /^future-\d+$/)
  t.not(a.key, b.key)
  t.is(new Future('task-7').key, 'task-7')
})

test('cancel() succeeds only from pending (or again when already cancelled)', (t) => {
  const expected = {
    pending: true,
    running: false,
    cancelled: true,
    cancelledAndNotified: true,
    failed: false,
    succeeded: false,
  }
  for (const [name, s] of Object.entries(STATES)) {
    const f = s.make()
    t.is(f.cancel(), expected[name as keyof typeof expected], name)
    t.is(f.cancelled(), s.cancelled || name === 'pending', name)
  }
})

test('setRunningOrNotifyCancel(): pending -> running, cancelled -> notified, otherwise throws', (t) => {
  const p = pending()
  t.true(p.setRunningOrNotifyCancel())
  t.true(p.running())

  const c = cancelled()
  t.false(c.setRunningOrNotifyCancel())
  t.true(c.cancelled())

  for (const make of [running, cancelledAndNotified, () => failed(), () => succeeded()]) {
    const f = make()
    const error = t.throws(() => f.setRunningOrNotifyCancel(), { instanceOf: InvalidStateError })
    t.is(error?.code, ErrorCode.INVALID_STATE)
    t.true(error?.message.includes(`Future<${f.key}>`))
  }
})

test('setResult/setException are allowed from pending and running', async (t) => {
  const a = pending()
  a.setResult(1)
  const b = running()
  b.setResult(2)
  const c = running()
  const error = new Error('x')
  c.setException(error)
  t.is(await a, 1)
  t.is(await b, 2)
  t.is(await c.exception(), error)
})

test('setting a done future again throws InvalidStateError naming key and state', async (t) => {
  const cases: [Future<number>, string][] = [
    [succeeded(1), 'finished'],
    [failed(), 'finished'],
    [cancelled(), 'cancelled'],
    [cancelledAndNotified(), 'cancelled'],
  ]
  for (const [f, state] of cases) {
    for (const set of [() => f.setResult(5), () => f.setException(new Error('again'))]) {
      const error = t.throws(set, { instanceOf: InvalidStateError })
      t.true(error?.message.includes(`Future<${f.key}> {${state}}`), error?.message)
    }
  }
  // The first outcome stands.
  const f = succeeded(1)
  t.throws(() => f.setResult(2))
  t.throws(() => f.setException(new Error('late')))
  t.is(await f.result(), 1)
})

test('setException(undefined) is refused', (t) => {
  t.throws(() => pending().setException(undefined as unknown as Error), { instanceOf: TypeError })
})

// ── done callbacks ──────────────────────────────────────────────────────────────────────────────

test('done callbacks see the result, the error, or the cancellation', async (t) => {
  const seen: unknown[] = []
  const ok = pending()
  ok.addDoneCallback((f) => seen.push(peek(f)))
  ok.setResult(5)
  const error = new Error('bad')
  const bad = pending()
  bad.addDoneCallback((f) => seen.push(peek(f)))
  bad.setException(error)
  const gone = pending()
  gone.addDoneCallback((f) => seen.push(f.cancelled()))
  t.true(gone.cancel())
  t.deepEqual(seen, [{ state: 'fulfilled', value: 5 }, { state: 'rejected', error }, true])
  t.is(await ok.exception(), undefined)
})

test('done callbacks run synchronously, once, in registration order', (t) => {
  for (const count of [1, 2, 3, 10]) {
    const f = pending()
    const order: number[] = []
    for (let i = 0; i < count; i++) f.addDoneCallback(() => order.push(i))
    t.deepEqual(order, [])
    f.setRunningOrNotifyCancel()
    t.deepEqual(order, [])
    f.setResult(1)
    t.deepEqual(
      order,
      Array.from({ length: count }, (_, i) => i),
    )
    t.is(doneCallbackCount(f), 0)
  }
})

test('a callback on a done future runs at once (already succeeded, failed, cancelled)', (t) => {
  for (const make of [() => succeeded(), () => failed(), cancelled, cancelledAndNotified]) {
    const f = make()
    let calls = 0
    f.addDoneCallback((g) => {
      t.is(g, f)
      calls++
    })
    t.is(calls, 1)
  }
})

test('a callback added from inside a callback runs at once', (t) => {
  const f = pending()
  const order: string[] = []
  f.addDoneCallback((g) => {
    order.push('outer')
    g.addDoneCallback(() => order.push('inner'))
    order.push('outer end')
  })
  f.addDoneCallback(() => order.push('second'))
  f.setResult(1)
  t.deepEqual(order, ['outer', 'inner', 'outer end', 'second'])
})

test.serial(
  'a callback that throws is logged with the key and does not stop the others',
  async (t) => {
    const order: number[] = []
    const f = new Future<number>('task-raising')
    const logs = captureLogs(() => {
      f.addDoneCallback(() => order.push(1))
      f.addDoneCallback(() => {
        throw new Error('doh!')
      })
      f.addDoneCallback(() => order.push(3))
      f.setResult(1)
      // Already done: raises at once, still logged rather than thrown.
      f.addDoneCallback(() => {
        throw new Error('doh again!')
      })
    })
    t.deepEqual(order, [1, 3])
    t.is(logs.length, 2)
    t.true(logs[0]![0].includes('Future<task-raising>'))
    t.is((logs[0]![1] as Error).message, 'doh!')
    t.is((logs[1]![1] as Error).message, 'doh again!')
    t.is(await f, 1)
  },
)

test.serial('the default logger writes the key and the error to console.error', (t) => {
  const original = console.error
  const lines: unknown[][] = []
  console.error = (...args: unknown[]) => lines.push(args)
  try {
    succeeded().addDoneCallback(() => {
      throw new Error('to stderr')
    })
  } finally {
    console.error = original
  }
  t.is(lines.length, 1)
  t.true(String(lines[0]![0]).includes('Future<succeeded>'))
  t.is((lines[0]![1] as Error).message, 'to stderr')
})

test('removeDoneCallback removes one registration, from any position', (t) => {
  const f = pending()
  const order: string[] = []
  const a = () => order.push('a')
  const b = () => order.push('b')
  const c = () => order.push('c')
  t.false(removeDoneCallback(f, a))
  f.addDoneCallback(a)
  t.true(hasDoneCallback(f, a))
  t.false(hasDoneCallback(f, b))
  t.true(removeDoneCallback(f, a))
  t.false(hasDoneCallback(f, a))
  t.is(doneCallbackCount(f), 0)
  f.addDoneCallback(a)
  f.addDoneCallback(b)
  f.addDoneCallback(c)
  f.addDoneCallback(b)
  t.is(doneCallbackCount(f), 4)
  t.true(hasDoneCallback(f, c))
  t.true(removeDoneCallback(f, b))
  t.false(removeDoneCallback(f, () => {}))
  t.true(removeDoneCallback(f, a))
  t.is(doneCallbackCount(f), 2)
  f.setResult(1)
  t.deepEqual(order, ['c', 'b'])
  t.false(removeDoneCallback(f, c))
})

// ── result() and exception() ────────────────────────────────────────────────────────────────────

test('result() gives the value, the same error instance, or a CancelledError', async (t) => {
  t.is(await succeeded(7).result(), 7)
  const error = new RangeError('boom')
  t.is(await t.throwsAsync(failed(error).result()), error)
  for (const f of [cancelled(), cancelledAndNotified()]) {
    const e = await t.throwsAsync(f.result(), { instanceOf: CancelledError })
    t.is(e?.code, ErrorCode.CANCELLED)
    t.true(e?.message.includes(f.key))
  }
})

test('result() waits for a result set later', async (t) => {
  const f = running()
  setTimeout(() => f.setResult(99), 20)
  t.is(await f.result(), 99)
  const g = pending()
  setTimeout(() => g.setResult(100), 20)
  t.is(await g.result(5_000), 100)
  t.is(doneCallbackCount(g), 0)
})

test('result() rejects when the future is cancelled while waiting', async (t) => {
  const f = pending()
  const result = f.result()
  const withTimeout = f.result(10_000)
  const ex = f.exception()
  t.true(f.cancel())
  await t.throwsAsync(result, { instanceOf: CancelledError })
  await t.throwsAsync(withTimeout, { instanceOf: CancelledError })
  await t.throwsAsync(ex, { instanceOf: CancelledError })
})

test('result(timeoutMs) times out with TimeoutError, leaving the future alone', async (t) => {
  for (const make of [pending, running]) {
    const f = make()
    const error = await t.throwsAsync(f.result(20), { instanceOf: TimeoutError })
    t.is(error?.code, ErrorCode.TIMEOUT)
    t.true(error?.message.includes(`Future<${f.key}>`))
    t.true(error?.message.includes('20 ms'))
    t.false(f.done())
    t.is(doneCallbackCount(f), 0, 'the timed-out wait removed its callback')
    await t.throwsAsync(f.result(0), { instanceOf: TimeoutError })
    await t.throwsAsync(f.exception(0), { instanceOf: TimeoutError })
    f.setResult(3)
    t.is(await f.result(0), 3)
  }
})

test('result(timeoutMs) on a done future answers at once', async (t) => {
  t.is(await succeeded(4).result(0), 4)
  await t.throwsAsync(failed().result(0), { instanceOf: RangeError })
  await t.throwsAsync(cancelled().result(10), { instanceOf: CancelledError })
})

test('result(Infinity) and huge timeouts wait forever without a timer', async (t) => {
  const f = pending()
  const a = f.result(Infinity)
  const b = f.result(2 ** 40)
  f.setResult(1)
  t.deepEqual(await Promise.all([a, b]), [1, 1])
})

test('invalid timeouts reject with InvalidOptionError naming timeoutMs', async (t) => {
  for (const bad of [-1, NaN, '5' as unknown as number]) {
    const e = await t.throwsAsync(pending().result(bad), { instanceOf: InvalidOptionError })
    t.true(e?.message.includes('timeoutMs'))
    await t.throwsAsync(pending().exception(bad), { instanceOf: InvalidOptionError })
  }
})

test('exception() gives undefined, the error, or rejects with CancelledError', async (t) => {
  t.is(await succeeded().exception(), undefined)
  const error = new TypeError('t')
  t.is(await failed(error).exception(), error)
  t.is(await failed(error).exception(0), error)
  await t.throwsAsync(cancelled().exception(), { instanceOf: CancelledError })
  const f = pending()
  setTimeout(() => f.setException(error), 10)
  t.is(await f.exception(5_000), error)
  await t.throwsAsync(pending().exception(10), { instanceOf: TimeoutError })
})

// ── then / await ────────────────────────────────────────────────────────────────────────────────

test('await, then, catch and finally', async (t) => {
  t.is(await succeeded(8), 8)
  await t.throwsAsync(
    async () => {
      await failed()
    },
    { instanceOf: RangeError },
  )
  await t.throwsAsync(
    async () => {
      await cancelled()
    },
    { instanceOf: CancelledError },
  )
  t.is(await succeeded(2).then((v) => v * 10), 20)
  t.is(
    await failed().then(
      () => 'no',
      (e: unknown) => (e as Error).message,
    ),
    'boom',
  )
  t.is(await failed().catch((e: unknown) => (e as Error).name), 'RangeError')
  let finallyRan = false
  t.is(
    await succeeded(3).finally(() => {
      finallyRan = true
    }),
    3,
  )
  t.true(finallyRan)
  const f = pending()
  setTimeout(() => f.setResult(11), 5)
  t.deepEqual(await Promise.all([f, f, f.result()]), [11, 11, 11])
})

test('JavaScript unwraps a Future returned from an async function (documented)', async (t) => {
  const f = succeeded(5)
  const unwrapped = await (async () => f)()
  t.is<unknown, unknown>(unwrapped, 5)
  const wrapped = await (async () => ({ future: f }))()
  t.is(wrapped.future, f)
})

test('a failed or cancelled future that nobody awaits never causes an unhandled rejection', async (t) => {
  const unhandled: unknown[] = []
  const onUnhandled = (reason: unknown): void => {
    unhandled.push(reason)
  }
  process.on('unhandledRejection', onUnhandled)
  try {
    failed()
    cancelled()
    const a = pending()
    a.setException(new Error('no one listens'))
    const b = running()
    b.addDoneCallback(() => {})
    b.setException(new Error('only a callback listens'))
    const c = pending()
    c.cancel()
    const d = running()
    setAbortHandler(d, () => {})
    d.cancel()
    d.setException(new Error('aborted'))
    // Consumers that do handle errors must not leave internal rejections behind either.
    const e = pending()
    const ex = e.exception()
    e.setException(new Error('seen through exception()'))
    await ex
    const fs = [failed(), cancelled(), failed()]
    for await (const _ of asCompleted(fs)) {
      // nothing
    }
    await wait(fs, { returnWhen: FIRST_EXCEPTION })
    await new Promise((resolve) => setImmediate(resolve))
    await tick(50)
    await new Promise((resolve) => setImmediate(resolve))
  } finally {
    process.off('unhandledRejection', onUnhandled)
  }
  t.deepEqual(unhandled, [])
})

// ── abort handler ───────────────────────────────────────────────────────────────────────────────

test('cancel() on a running future calls the abort handler once and returns false', (t) => {
  const f = pending()
  let aborts = 0
  f.setRunningOrNotifyCancel()
  setAbortHandler(f, () => aborts++)
  t.false(f.cancel())
  t.false(f.cancel())
  t.is(aborts, 1)
  t.true(f.running())
  f.setException(new Error('aborted'))
  t.false(f.cancel())
  t.is(aborts, 1)
})

test('the abort handler is not called for a pending cancel, nor once the future is done', (t) => {
  let aborts = 0
  const p = pending()
  setAbortHandler(p, () => aborts++)
  t.true(p.cancel())
  const r = running()
  setAbortHandler(r, () => aborts++)
  r.setResult(1)
  t.false(r.cancel())
  const d = succeeded()
  setAbortHandler(d, () => aborts++)
  t.false(d.cancel())
  t.is(aborts, 0)
})

test.serial('an abort handler that throws is logged; cancel() still returns false', (t) => {
  const f = running()
  setAbortHandler(f, () => {
    throw new Error('abort failed')
  })
  let result: boolean | undefined
  const logs = captureLogs(() => {
    result = f.cancel()
  })
  t.false(result)
  t.is(logs.length, 1)
  t.true(logs[0]![0].includes('abort handler'))
})

// ── internal helpers ────────────────────────────────────────────────────────────────────────────

test('isFuture recognises futures, also from a duplicate copy by brand', (t) => {
  t.true(isFuture(pending()))
  const foreign = Object.create(
    Object.defineProperty({}, Symbol.for('clusterpool.Future'), { value: true }),
  ) as unknown
  t.true(isFuture(foreign))
  for (const x of [null, undefined, 1, 'f', {}, Promise.resolve(1), { then() {} }]) {
    t.false(isFuture(x))
  }
})

test('settledState and peek read a future synchronously', (t) => {
  const error = new Error('e')
  t.is(settledState(pending()), 'pending')
  t.is(settledState(running()), 'running')
  t.is(settledState(succeeded()), 'fulfilled')
  t.is(settledState(failed()), 'rejected')
  t.is(settledState(cancelled()), 'cancelled')
  t.is(settledState(cancelledAndNotified()), 'cancelled')
  t.deepEqual(peek(succeeded(6)), { state: 'fulfilled', value: 6 })
  t.deepEqual(peek(failed(error)), { state: 'rejected', error })
  t.deepEqual(peek(pending()), { state: 'pending' })
  t.deepEqual(peek(cancelled()), { state: 'cancelled' })
})

test('a Future<number> is a Future<unknown> and a PromiseLike<number>', async (t) => {
  const f = succeeded(1)
  const asUnknown: Future<unknown> = f
  const asPromiseLike: PromiseLike<number> = f
  t.is(await asUnknown, 1)
  t.is(await asPromiseLike, 1)
})
