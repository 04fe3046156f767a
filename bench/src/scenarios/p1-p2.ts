// P1 (sequential round trip of a no-op) and P2 (throughput of N no-ops through `map`,
// `map` with chunksize 100, and submit-all then `Promise.all`) on one clusterpool system.
import type { Executor } from 'clusterpool'

import { addRoundTrip, guarded, throughputSeries, type Ctx } from '../harness/measure.js'
import { inc, range, warmUp, type ExecutorSystem } from './systems.js'

/** Opens `system`, runs the selected P1/P2 scenarios on it, closes it. */
export async function roundTripAndThroughput(
  ctx: Ctx,
  system: ExecutorSystem,
  workers: number,
): Promise<void> {
  const { config } = ctx
  let open: Awaited<ReturnType<ExecutorSystem['open']>> | undefined
  const opened = await guarded(
    ctx,
    config.only.has('P1') ? 'P1' : 'P2',
    system.name,
    120_000,
    async () => {
      open = await system.open()
      await warmUp(open.executor, workers)
    },
  )
  if (!opened || open === undefined) return
  try {
    await measureExecutor(ctx, system.name, open.executor)
  } finally {
    await open.close()
  }
}

/**
 * The selected P1/P2 figures of `ex`, an executor already open and warmed up, recorded under
 * `system`. Also what the own-process client runs in its child.
 */
export async function measureExecutor(ctx: Ctx, system: string, ex: Executor): Promise<void> {
  const { config } = ctx
  if (config.only.has('P1')) {
    await guarded(ctx, 'P1', system, 180_000, async () => {
      await addRoundTrip(ctx, system, 'clusterpool', async (i) => {
        if ((await ex.submit(inc, i)) !== i + 1) throw new Error('wrong result')
      })
    })
  }
  if (!config.only.has('P2')) return
  const mapRun = (chunksize: number | undefined) => async (n: number) => {
    let sum = 0
    for await (const r of ex.map(inc, range(n), chunksize === undefined ? {} : { chunksize }))
      sum += r
    if (sum !== (n * (n + 1)) / 2) throw new Error('map returned wrong results')
  }
  const base = { scenario: 'P2', system, family: 'clusterpool', ns: config.ns } as const
  await throughputSeries(ctx, { ...base, method: 'map', run: mapRun(undefined) })
  await throughputSeries(ctx, { ...base, method: 'map chunksize=100', run: mapRun(100) })
  await throughputSeries(ctx, {
    ...base,
    method: 'submit-all',
    run: async (n) => {
      const futures = new Array<PromiseLike<number>>(n)
      for (let i = 0; i < n; i++) futures[i] = ex.submit(inc, i)
      const values = await Promise.all(futures)
      let sum = 0
      for (const v of values) sum += v
      if (sum !== (n * (n + 1)) / 2) throw new Error('submit-all returned wrong results')
    },
  })
}

/**
 * `count` sequential round trips of a no-op on `ex` with no warm-up at all: the first calls a
 * user makes on a cluster just started. Milliseconds, one per call, in order.
 */
export async function firstRoundTrips(ex: Executor, count: number): Promise<number[]> {
  const samples = new Array<number>(count)
  for (let i = 0; i < count; i++) {
    const t0 = performance.now()
    if ((await ex.submit(inc, i)) !== i + 1) throw new Error('wrong result')
    samples[i] = performance.now() - t0
  }
  return samples
}
