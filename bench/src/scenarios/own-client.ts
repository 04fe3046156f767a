// P1 and P2 with the client as a user runs it: a LocalCluster in one process (coordinator and
// worker daemons, children/cluster-host.ts) and the client in another (children/cluster-client.ts),
// connected with `ClusterExecutor.connect`. The figures are measured in the client's process.
// Also P1's first round trips of a fresh cluster: a new cluster and a new client per run.
import { fileURLToPath } from 'node:url'

import { runJsonLines } from '../harness/children.js'
import { addFreshRoundTrips, guarded, type Ctx } from '../harness/measure.js'
import type { Failure, Measurement, Results, Skip } from '../harness/result.js'
import { median } from '../harness/stats.js'
import { startClusterHost } from './cluster-host.js'
import { CHILDREN, NODE_ARGS } from './coordinator-child.js'

const CLIENT = fileURLToPath(new URL('cluster-client.ts', CHILDREN))

export const ownClientSystem = (workers: number): string =>
  `clusterpool LocalCluster ${workers}×1 (client in its own process)`

/** P1's method for the first round trips of a fresh cluster. */
export const firstMethod = (count: number): string => `first ${count} of a fresh cluster`

/** Round trips per bucket in the note of the fresh-cluster figure. */
const BUCKET = 50

/** Runs the client child in `mode` against the cluster at `url`; returns its JSON lines. */
async function runClient(
  ctx: Ctx,
  url: string,
  token: string | undefined,
  mode: 'warm' | 'fresh',
  system: string,
  timeoutMs: number,
  onLine: (line: Record<string, unknown>) => void,
): Promise<void> {
  const run = await runJsonLines(
    process.execPath,
    [...NODE_ARGS, CLIENT, url, token ?? '-', mode, system, ...ctx.config.argv],
    timeoutMs,
    onLine,
  )
  if (run.timedOut) throw new Error(`the client process timed out after ${timeoutMs} ms`)
  if (run.code !== 0)
    throw new Error(`the client process exited ${run.code ?? run.signal}: ${run.stderrTail}`)
}

/** Hands what the child measured to this run's results. */
function forward(results: Results, line: Record<string, unknown>): void {
  switch (line.type) {
    case 'measurement':
      results.add(line.record as Measurement)
      return
    case 'skip':
      results.skip(line.record as Skip)
      return
    case 'fail':
      results.fail(line.record as Failure)
      return
  }
}

/** The selected P1/P2 figures, warm, with the client in its own process. */
export async function ownProcessClient(ctx: Ctx, workers: number): Promise<void> {
  const { config } = ctx
  const system = ownClientSystem(workers)
  const scenario = config.only.has('P1') ? 'P1' : 'P2'
  await guarded(ctx, scenario, system, config.quick ? 600_000 : 3_600_000, async () => {
    const host = await startClusterHost(workers)
    try {
      await runClient(
        ctx,
        host.url,
        host.token,
        'warm',
        system,
        config.quick ? 540_000 : 3_500_000,
        (line) => forward(ctx.results, line),
      )
    } finally {
      await host.close()
    }
  })
}

/**
 * P1 on a fresh cluster: per run, `LocalCluster.start` in its own process, a new client process
 * connects, and its first `config.firstRoundTrips` round trips are the samples. The figure is
 * the median of the runs' medians; p99 over every sample; the note gives the median of each
 * bucket of 50 (every run's samples pooled), which shows where the first second goes.
 */
export async function freshClusterRoundTrips(ctx: Ctx, workers: number): Promise<void> {
  const { config } = ctx
  const system = ownClientSystem(workers)
  const count = config.firstRoundTrips
  await guarded(ctx, 'P1', `${system} · ${firstMethod(count)}`, 600_000, async () => {
    const perRun: number[][] = []
    const starts: number[] = []
    const buckets: number[][] = Array.from({ length: Math.ceil(count / BUCKET) }, () => [])
    for (let r = 0; r < config.freshClusters; r++) {
      const host = await startClusterHost(workers)
      let samples: number[] | undefined
      try {
        await runClient(ctx, host.url, host.token, 'fresh', system, 120_000, (line) => {
          if (line.type === 'first') samples = line.samples as number[]
        })
      } finally {
        await host.close()
      }
      if (samples?.length !== count) throw new Error('the client reported no round trips')
      perRun.push(samples)
      starts.push(host.startMs)
      samples.forEach((s, i) => buckets[Math.floor(i / BUCKET)]!.push(s))
    }
    const byBucket = buckets.map((b) => median(b).toFixed(2)).join(', ')
    addFreshRoundTrips(
      ctx,
      {
        system,
        family: 'clusterpool',
        method: firstMethod(count),
        note: `${firstMethod(count)}: no warm-up, a new cluster and client process per run (${config.freshClusters} runs); median by ${BUCKET}s: ${byBucket} ms; LocalCluster.start took ${median(starts).toFixed(0)} ms (median)`,
      },
      perRun,
    )
  })
}
