// The shared executor suite: `shutdown` (wait, cancelFutures, submit after it, `await using`)
// and `Future.cancel` of pending and running tasks.

import {
  type Future,
  AbortedError,
  CancelledError,
  ExecutorShutdownError,
  type BaseExecutor,
} from 'clusterpool'

import { waitFor } from '../helpers/processes.js'

import { double, gated, marker, scratch, stubborn, type Suite } from './shared.js'

export function lifecycleTests(suite: Suite): void {
  // ─── shutdown ───────────────────────────────────────────────────────────────────────────────

  suite.it('shutdown({ wait: true }) waits for every submitted task', async (t, ex) => {
    const futures = Array.from({ length: 6 }, (_, i) =>
      ex.submit(
        (x: number) => new Promise<number>((resolve) => setTimeout(() => resolve(x), 100)),
        i,
      ),
    )
    await ex.shutdown()
    t.true(futures.every((f) => f.done()))
    t.deepEqual(await Promise.all(futures), [0, 1, 2, 3, 4, 5])
  })

  suite.it(
    'shutdown({ wait: false }) returns at once and the tasks still finish',
    async (t, ex) => {
      const s = scratch(t)
      const futures = [ex.submit(gated, s.dir, 'a'), ex.submit(double, 21)]
      await ex.shutdown({ wait: false })
      t.false(futures[0]!.done())
      t.throws(() => ex.submit(double, 1), { instanceOf: ExecutorShutdownError })
      s.open('a')
      t.deepEqual(await Promise.all(futures), ['a', 42])
    },
  )

  suite.it(
    'shutdown({ cancelFutures: true }) cancels pending and aborts running',
    async (t, ex) => {
      const s = scratch(t)
      const running = Array.from({ length: suite.kit.slots }, (_, i) =>
        ex.submit(gated, s.dir, `r${i}`),
      )
      for (let i = 0; i < suite.kit.slots; i++) await s.until(`r${i}.started`)
      const pending = Array.from({ length: 6 * suite.kit.slots }, (_, i) =>
        ex.submit(marker, s.dir, `p${i}`),
      )
      await ex.shutdown({ cancelFutures: true })
      // On a cluster the coordinator settles an aborted future at once and the worker aborts the
      // task right after, so the marker may come a moment after shutdown returns.
      for (let i = 0; i < suite.kit.slots; i++) await s.until(`r${i}.aborted`)
      for (const f of running) await t.throwsAsync(f, { instanceOf: AbortedError })
      t.true(pending.every((f) => f.done()))
      // Those still on this side were cancelled; any a cluster had handed to a worker's queue
      // were aborted there before they started. None ran.
      t.true(pending.filter((f) => f.cancelled()).length > 0)
      for (const f of pending) {
        const error: unknown = await f.then(
          () => undefined,
          (e: unknown) => e,
        )
        t.true(error instanceof CancelledError || error instanceof AbortedError, String(error))
      }
      t.deepEqual(
        pending.map((_, i) => i).filter((i) => s.has(`p${i}.ran`)),
        [],
      )
    },
  )

  suite.it('submit and map after shutdown throw ExecutorShutdownError', async (t, ex) => {
    await ex.shutdown()
    const error = t.throws(() => ex.submit(double, 1), { instanceOf: ExecutorShutdownError })
    t.is(error.code, 'CP_ERR_EXECUTOR_SHUTDOWN')
    t.regex(error.message, /after shutdown/)
    t.throws(() => ex.map(double, [1]), { instanceOf: ExecutorShutdownError })
    await ex.shutdown() // idempotent
  })

  suite.it('await using shuts the executor down at the end of the block', async (t) => {
    let f: Future<number>
    let inner: BaseExecutor
    {
      await using ex = await suite.kit.make()
      inner = ex
      f = ex.submit(
        (x: number) => new Promise<number>((resolve) => setTimeout(() => resolve(x), 50)),
        5,
      )
    }
    t.true(f.done())
    t.is(await f, 5)
    t.is(inner.state, 'shut-down')
    t.throws(() => inner.submit(double, 1), { instanceOf: ExecutorShutdownError })
  })

  // ─── cancel ─────────────────────────────────────────────────────────────────────────────────

  suite.it('cancel() of a pending task: true, CancelledError, and it never runs', async (t, ex) => {
    const s = scratch(t)
    // Enough blockers that every slot, and any queue a worker keeps, is full.
    const blockers = Array.from({ length: suite.kit.slots * 4 }, (_, i) =>
      ex.submit(gated, s.dir, `b${i}`),
    )
    for (let i = 0; i < suite.kit.slots; i++) await s.until(`b${i}.started`)
    const victim = ex.submit(marker, s.dir, 'victim')
    t.false(victim.running())
    t.true(victim.cancel())
    t.true(victim.cancelled())
    t.true(victim.done())
    t.true(victim.cancel(), 'cancel() again on a cancelled future is still true')
    const error = await t.throwsAsync(victim, { instanceOf: CancelledError })
    t.is(error.code, 'CP_ERR_CANCELLED')
    for (let i = 0; i < blockers.length; i++) s.open(`b${i}`)
    t.is((await Promise.all(blockers)).length, blockers.length)
    t.is(await ex.submit(double, 4), 8)
    await ex.shutdown()
    t.false(s.has('victim.ran'))
  })

  suite.it(
    'cancel() of a running task: false; the task sees its abort signal and the future ends as it does',
    async (t, ex) => {
      const s = scratch(t)
      const f = ex.submit(gated, s.dir, 'long')
      await s.until('long.started')
      await waitFor(() => f.running(), 'the future to be running')
      t.false(f.cancel())
      t.false(f.cancelled())
      await s.until('long.aborted')
      const error = await t.throwsAsync(f, { instanceOf: AbortedError })
      t.is(error.code, 'CP_ERR_ABORTED')
      // A task that ignores its signal: its future ends as the task does, not at cancel().
      const stubbornFuture = ex.submit(stubborn, s.dir, 'stubborn')
      await s.until('stubborn.started')
      await waitFor(() => stubbornFuture.running(), 'the second future to be running')
      t.false(stubbornFuture.cancel())
      await new Promise((resolve) => setTimeout(resolve, 200))
      t.false(stubbornFuture.done(), 'not settled while the task still runs')
      s.open('stubborn')
      t.is(await stubbornFuture, 'stubborn')
      t.is(await ex.submit(double, 5), 10, 'the executor keeps working')
    },
  )
}
