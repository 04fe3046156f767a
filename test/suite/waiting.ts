// The shared executor suite: `asCompleted` and `wait` (each `returnWhen`, timeouts) on real tasks.

import {
  type Future,
  ALL_COMPLETED,
  FIRST_COMPLETED,
  FIRST_EXCEPTION,
  TimeoutError,
  asCompleted,
  wait,
} from 'clusterpool'

import { sleep } from '../helpers/processes.js'

import { completionOrder, double, gated, scratch, type Suite } from './shared.js'

export function waitingTests(suite: Suite): void {
  // ─── asCompleted and wait ───────────────────────────────────────────────────────────────────

  suite.it(
    'asCompleted: done futures first, then in completion order, duplicates once',
    async (t, ex) => {
      const s = scratch(t)
      const early: Future<unknown> = ex.submit(double, 1)
      await early
      const a = ex.submit(gated, s.dir, 'a')
      const b = ex.submit(gated, s.dir, 'b')
      await s.until('a.started')
      await s.until('b.started')
      const order = await completionOrder(asCompleted([a, early, b, a, early]), (f) => {
        // Open the next gate only once the previous future came out: b, then a.
        if (f === early) s.open('b')
        if (f === b) s.open('a')
      })
      t.deepEqual(order, [early, b, a])
    },
  )

  suite.it('asCompleted with timeoutMs says how many futures were unfinished', async (t, ex) => {
    const s = scratch(t)
    const done: Future<unknown> = ex.submit(double, 2)
    await done
    const stuck = ex.submit(gated, s.dir, 'stuck')
    const it = asCompleted([done, stuck], { timeoutMs: 200 })
    t.is((await it.next()).value, done)
    const error = await t.throwsAsync(it.next(), { instanceOf: TimeoutError })
    t.regex(error.message, /1 \(of 2\) futures unfinished/)
    t.false(stuck.done(), 'the futures themselves are unaffected')
    s.open('stuck')
    t.is(await stuck, 'stuck')
  })

  suite.it('wait: FIRST_COMPLETED, FIRST_EXCEPTION, ALL_COMPLETED and timeoutMs', async (t, ex) => {
    const s = scratch(t)
    const a = ex.submit(gated, s.dir, 'a')
    const b = ex.submit(gated, s.dir, 'b', true)
    await s.until('a.started')
    await s.until('b.started')

    const timedOut = await wait([a, b], { timeoutMs: 100 })
    t.deepEqual(timedOut.done, new Set())
    t.deepEqual(timedOut.notDone, new Set([a, b]))

    const first = wait([a, b], { returnWhen: FIRST_COMPLETED })
    s.open('b') // b fails
    const r1 = await first
    t.deepEqual(r1.done, new Set([b]))
    t.deepEqual(r1.notDone, new Set([a]))

    // b already failed: FIRST_EXCEPTION returns at once.
    const r2 = await wait([a, b], { returnWhen: FIRST_EXCEPTION })
    t.deepEqual(r2.done, new Set([b]))
    t.deepEqual(r2.notDone, new Set([a]))

    const all = wait([a, b], { returnWhen: ALL_COMPLETED })
    s.open('a')
    const r3 = await all
    t.deepEqual(r3.done, new Set([a, b]))
    t.deepEqual(r3.notDone, new Set())

    // Without any failure FIRST_EXCEPTION waits for all.
    const c: Future<unknown> = ex.submit(gated, s.dir, 'c')
    const d: Future<unknown> = ex.submit(double, 3)
    const noFailure = wait([c, d], { returnWhen: FIRST_EXCEPTION })
    await d
    await sleep(50)
    t.false(c.done())
    s.open('c')
    t.deepEqual((await noFailure).done, new Set([c, d]))
  })
}
