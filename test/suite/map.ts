// The shared executor suite: `Executor.map` (order, the first error, timeoutMs from the call,
// chunksize, async iterables).

import { TimeoutError, type TaskContext } from 'clusterpool'

import { sleep } from '../helpers/processes.js'

import { collect, double, scratch, type Suite } from './shared.js'

/** A global inside task processes and threads (see `currentTask` in @clusterpool/client). */
declare const currentTask: () => TaskContext

export function mapTests(suite: Suite): void {
  // ─── map ────────────────────────────────────────────────────────────────────────────────────

  suite.it('map yields results in input order', async (t, ex) => {
    // Later items finish first.
    const items = Array.from({ length: 40 }, (_, i) => i)
    const out = await collect(
      ex.map(
        (x: number) =>
          new Promise<number>((resolve) => setTimeout(() => resolve(x * x), (40 - x) % 7)),
        items,
      ),
    )
    t.deepEqual(
      out,
      items.map((x) => x * x),
    )
  })

  suite.it('map throws the first error at its position and cancels the rest', async (t, ex) => {
    const s = scratch(t)
    // Item 3 fails at once; items 4.. leave `N.ran` if they ever start, then run until aborted
    // (or a minute), leaving `N.aborted`.
    const results: string[] = []
    const iterator = ex.map(
      async ([dir, i]: [string, number]) => {
        const signal = currentTask().signal
        const fs = await import('node:fs')
        if (i === 3) throw new RangeError(`item ${i} is bad`)
        if (i > 3) {
          fs.writeFileSync(`${dir}/${i}.ran`, '')
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, 60_000)
            const stop = (): void => {
              clearTimeout(timer)
              resolve()
            }
            if (signal.aborted) stop()
            else signal.addEventListener('abort', stop)
          })
          fs.writeFileSync(`${dir}/${i}.${signal.aborted ? 'aborted' : 'timed-out'}`, '')
          throw signal.reason
        }
        return `ok ${i}`
      },
      Array.from({ length: 30 }, (_, i) => [s.dir, i] as [string, number]),
    )
    const error = await t.throwsAsync(
      (async () => {
        for await (const r of iterator) results.push(r)
      })(),
    )
    t.true(error instanceof RangeError)
    t.is(error.message, 'item 3 is bad')
    t.deepEqual(results, ['ok 0', 'ok 1', 'ok 2'])
    // The rest were cancelled: a drained executor shuts down although items 4.. never return
    // on their own, and the items that had not started never ran.
    await ex.shutdown()
    const ran = Array.from({ length: 26 }, (_, k) => k + 4).filter((i) => s.has(`${i}.ran`))
    t.true(
      ran.length <= suite.kit.slots * 4,
      `only items already handed out ran (${ran.join(',')})`,
    )
    // Those that had started see their abort signal (on a cluster, just after shutdown returns).
    for (const i of ran) await s.until(`${i}.aborted`)
    // A local pool starts items in order, so the last never started. A cluster may start a
    // handed-out item out of order (a worker's queue, a steal), within the bound above.
    if (suite.kit.kind === 'thread' || suite.kit.kind === 'process')
      t.false(s.has('29.ran'), `items that ran: ${ran.join(',')}`)
  })

  suite.it('map timeoutMs counts from the call', async (t, ex) => {
    const started = Date.now()
    // Tasks that run until aborted (or a minute).
    const untilAborted = (x: number): Promise<number> =>
      new Promise((resolve, reject) => {
        const signal = currentTask().signal
        const timer = setTimeout(() => resolve(x), 60_000)
        signal.addEventListener('abort', () => {
          clearTimeout(timer)
          reject(signal.reason as Error)
        })
      })
    const iterator = ex.map(untilAborted, [1, 2], { timeoutMs: 1500 })
    // The call started the clock: once the deadline has passed, next() has nothing to wait for.
    await sleep(2000)
    const beforeNext = Date.now()
    const error = await t.throwsAsync(iterator.next(), { instanceOf: TimeoutError })
    t.true(Date.now() - started >= 1500)
    // Counted from next() it would take 1500 ms more; allow a loaded machine 1000 ms.
    t.true(Date.now() - beforeNext < 1000, `timed out ${Date.now() - beforeNext} ms after next()`)
    t.is(error.code, 'CP_ERR_TIMEOUT')
    t.true((await iterator.next()).done)
  })

  suite.it(
    'map with chunksize sends items in batches and keeps order and errors',
    async (t, ex) => {
      const items = Array.from({ length: 100 }, (_, i) => i)
      const out = await collect(
        ex.map((x: number) => [x, currentTask().id] as const, items, { chunksize: 7 }),
      )
      t.deepEqual(
        out.map(([x]) => x),
        items,
      )
      // Items of one chunk ran as one pool task: same task id within each chunk of 7.
      for (let start = 0; start < 100; start += 7) {
        const ids = new Set(out.slice(start, start + 7).map(([, id]) => id))
        t.is(ids.size, 1, `chunk at ${start} ran as one task`)
      }
      const seen: number[] = []
      const error = await t.throwsAsync(
        (async () => {
          for await (const r of ex.map(
            (x: number) => {
              if (x === 10) throw new Error('ten')
              return x
            },
            items,
            { chunksize: 4 },
          ))
            seen.push(r)
        })(),
      )
      t.is(error.message, 'ten')
      t.deepEqual(seen, items.slice(0, 10))
    },
  )

  suite.it('map accepts an async iterable', async (t, ex) => {
    async function* source(): AsyncGenerator<number> {
      for (let i = 0; i < 25; i++) {
        if (i % 5 === 0) await sleep(1)
        yield i
      }
    }
    t.deepEqual(
      await collect(ex.map(double, source())),
      Array.from({ length: 25 }, (_, i) => i * 2),
    )
    t.deepEqual(await collect(ex.map(double, new Set([1, 2, 3]))), [2, 4, 6])
    t.deepEqual(await collect(ex.map(double, [])), [])
  })
}
