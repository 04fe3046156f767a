// P11, the coordinator at scale: one real coordinator (a LocalCluster with no workers of its own,
// in a child process) under `p11Workers` simulated workers and `p11Tasks` queued tasks.
//
// - The fleet (children/p11-fleet.ts) is one more process holding a WebSocket per simulated
//   worker; each speaks the worker protocol (hello, a heartbeat every second as the welcome says,
//   results for what it is assigned), with one slot whose task "runs" `TASK_MS`. So the cluster
//   answers about workers × 1000 / TASK_MS tasks per second and the backlog stays queued.
// - This process is the client: it submits the tasks in slices and checks the first result.
//
// Figures, per run (a fresh coordinator and fleet each):
// - **heartbeat → pong p99**: each simulated worker sends a WebSocket ping right behind each
//   heartbeat, on the same socket; the coordinator handles the heartbeat as it reads it, and its
//   ws library answers the ping once it has parsed it, after. So heartbeat → pong is the time
//   until the coordinator has handled the heartbeat, plus a loopback round trip, and it includes
//   the time the heartbeat waited behind whatever else the coordinator was doing. Measured in
//   the steady window (every task submitted, the backlog queued, results flowing), and also
//   while the tasks were being submitted (reported apart: the coordinator is ingesting then).
//   The fleet's own event-loop delay is in the note: a busy fleet reads its pongs late.
// - **scheduler step p99**: the coordinator's `clusterpool_scheduler_step_seconds` histogram
//   (every input, worker or client messages or a tick: the scheduler's calls and applying their
//   decisions), scraped from /metrics before and after the steady window; the quantile is
//   interpolated inside its bucket as Prometheus does.
// - **RSS per queued task**: the coordinator's RSS after a full GC once it has taken every task
//   minus before the first, over the tasks submitted.

import type { Executor } from 'clusterpool'

import { guarded, type Ctx } from '../harness/measure.js'
import {
  bucketCount,
  bucketQuantile,
  bucketsBetween,
  parseBuckets,
} from '../harness/prom-histogram.js'
import { log } from '../harness/result.js'
import { median, p99 } from '../harness/stats.js'
import { sleep, withTimeout } from '../harness/timeout.js'
import { startClusterHost, type ClusterHost } from './cluster-host.js'
import { connectTo } from './cluster.js'
import {
  STALL_LIMIT_MS,
  SUBMIT_SLICE,
  coordinatorGet,
  coordinatorStatus,
  startIpcChild,
} from './coordinator-child.js'
import { inc, shutdownQuietly } from './systems.js'

/** How long a simulated task "runs". Milliseconds. */
const TASK_MS = 200
/** Slots per simulated worker. */
const PROCS = 1
/** The client gives up on the closed coordinator after this long (it goes first). Milliseconds. */
const RECONNECT_MS = 500
/** From the memory sample (two full GCs) to the steady window. Milliseconds. */
const SETTLE_MS = 2000
const STEP_HISTOGRAM = 'clusterpool_scheduler_step_seconds'
const SYSTEM = 'clusterpool coordinator (LocalCluster, 0 workers) + simulated workers'

interface FleetStats {
  readonly heartbeatRttsMs: number[]
  readonly done: number
  readonly closed: number
  readonly fleetDelayP99Ms: number
}

interface Fleet {
  readonly workers: number
  reset(): Promise<void>
  stats(): Promise<FleetStats>
  close(): Promise<void>
}

async function startFleet(coordinator: ClusterHost, workers: number): Promise<Fleet> {
  const args = [coordinator.url, coordinator.token ?? '-', workers, PROCS, TASK_MS].map(String)
  const fleet = await startIpcChild('p11-fleet.ts', args, `${workers} simulated workers connecting`)
  return {
    workers: Number(fleet.hello.ready),
    async reset() {
      await fleet.ask('reset', 'fleet reset')
    },
    async stats() {
      return (await fleet.ask('stats', 'fleet stats')).stats as FleetStats
    },
    close: () => fleet.close(10_000),
  }
}

async function stepBuckets(coordinator: ClusterHost): Promise<ReturnType<typeof parseBuckets>> {
  const page = await coordinatorGet(coordinator.url, coordinator.token, '/metrics')
  if (page === undefined) throw new Error('the coordinator did not answer /metrics')
  const buckets = parseBuckets(page, STEP_HISTOGRAM)
  if (buckets.size === 0) throw new Error(`/metrics has no ${STEP_HISTOGRAM}`)
  return buckets
}

async function submittedSoFar(coordinator: ClusterHost): Promise<number | undefined> {
  const totals = (await coordinatorStatus(coordinator.url, coordinator.token))?.totals
  const submitted = (totals as { submitted?: unknown } | undefined)?.submitted
  return typeof submitted === 'number' ? submitted : undefined
}

interface RunFigures {
  readonly heartbeatP99: number
  readonly heartbeatMedian: number
  readonly ingestHeartbeatP99: number
  readonly stepP99: number
  readonly steps: number
  readonly rssPerTask: number
  readonly doneInWindow: number
  readonly fleetDelayP99: number
}

async function scaleOnce(ctx: Ctx): Promise<RunFigures> {
  const { p11Workers: workers, p11Tasks: n, p11WindowMs: windowMs } = ctx.config
  const coordinator = await startClusterHost(0)
  let fleet: Fleet | undefined
  let executor: Executor | undefined
  try {
    fleet = await startFleet(coordinator, workers)
    if (fleet.workers !== workers) throw new Error(`${fleet.workers} of ${workers} workers joined`)
    executor = await connectTo(coordinator.url, coordinator.token, RECONNECT_MS)
    // A warm-up through every path (assign, result, the client's future), checked.
    const warm = await Promise.all(
      Array.from({ length: workers }, (_, i) => executor!.submit(inc, i)),
    )
    if (warm.some((v, i) => v !== i + 1)) throw new Error('a simulated worker answered wrongly')
    const base = (await submittedSoFar(coordinator)) ?? 0
    const before = await coordinator.memory()
    await fleet.reset()
    const futures = new Array<PromiseLike<number>>(n)
    // Tasks finish here, so only a failure says the connection was lost.
    const watch: { error: unknown } = { error: undefined }
    for (let i = 0; i < n; i++) {
      futures[i] = executor.submit(inc, i)
      if (i === 0) futures[0]!.then(undefined, (error: unknown) => (watch.error = error))
      if ((i + 1) % SUBMIT_SLICE === 0) {
        await new Promise((resolve) => setImmediate(resolve))
        if (watch.error !== undefined) throw watch.error
      }
    }
    let last = -1
    let progressAt = performance.now()
    for (;;) {
      await sleep(250)
      if (watch.error !== undefined) throw watch.error
      const count = ((await submittedSoFar(coordinator)) ?? base) - base
      if (count >= n) break
      if (count > last) {
        last = count
        progressAt = performance.now()
      } else if (performance.now() - progressAt > STALL_LIMIT_MS) {
        throw new Error(`the coordinator took ${count} of ${n} tasks and then stood still`)
      }
    }
    const ingest = await fleet.stats()
    const after = await coordinator.memory()

    // The steady window: every task taken, the backlog queued, results flowing. It opens once
    // the coordinator has caught up with what arrived during the full GC of the memory sample.
    await sleep(SETTLE_MS)
    await fleet.reset()
    const stepsBefore = await stepBuckets(coordinator)
    const doneBefore = ingest.done
    await sleep(windowMs)
    const steady = await fleet.stats()
    const steps = bucketsBetween(stepsBefore, await stepBuckets(coordinator))
    if (steady.closed > 0) throw new Error(`${steady.closed} simulated workers were disconnected`)
    if (steady.heartbeatRttsMs.length === 0) throw new Error('no heartbeat was answered')
    // The first task (submitted first, run among the first): its value came back right.
    const first = await withTimeout(Promise.resolve(futures[0]!), 60_000, 'the first task')
    if (first !== 1) throw new Error(`the first task returned ${first}, not 1`)
    log(
      `P11: coordinator RSS ${(before.rss / 2 ** 20).toFixed(0)} → ${(after.rss / 2 ** 20).toFixed(0)} MiB; ` +
        `${steady.done - doneBefore} tasks answered in the window`,
    )
    return {
      heartbeatP99: p99(steady.heartbeatRttsMs),
      heartbeatMedian: median(steady.heartbeatRttsMs),
      ingestHeartbeatP99: p99(ingest.heartbeatRttsMs),
      stepP99: bucketQuantile(steps, 0.99) * 1000,
      steps: bucketCount(steps),
      rssPerTask: (after.rss - before.rss) / n,
      doneInWindow: steady.done - doneBefore,
      fleetDelayP99: steady.fleetDelayP99Ms,
    }
  } finally {
    // The coordinator goes first: the client then only fails its futures (see P5).
    await coordinator.close()
    await fleet?.close()
    if (executor) await shutdownQuietly(executor)
  }
}

async function scale(ctx: Ctx): Promise<void> {
  const { p11Workers: workers, p11Tasks: n, p11WindowMs: windowMs } = ctx.config
  const runs: RunFigures[] = []
  for (let r = 0; r < ctx.config.runs; r++) runs.push(await scaleOnce(ctx))
  const of = (f: (r: RunFigures) => number): { median: number; runs: number[] } => {
    const values = runs.map(f)
    return { median: median(values), runs: values }
  }
  const done = median(runs.map((r) => r.doneInWindow))
  const common = {
    scenario: 'P11',
    system: SYSTEM,
    family: 'clusterpool',
    n,
    better: 'lower',
  } as const
  const setup = `${workers} simulated workers × ${PROCS} slot, ${TASK_MS} ms tasks, ${shortN(n)} queued`
  ctx.results.add({
    ...common,
    method: 'steady window',
    metric: 'heartbeat → pong p99',
    unit: 'ms',
    ...of((r) => r.heartbeatP99),
    note: `${setup}; ${windowMs / 1000} s window, ${fmtN(done)} tasks answered in it (median); heartbeat → pong median ${of((r) => r.heartbeatMedian).median.toFixed(1)} ms; the fleet's event-loop delay p99 ${of((r) => r.fleetDelayP99).median.toFixed(0)} ms`,
  })
  ctx.results.add({
    ...common,
    method: 'while submitting',
    metric: 'heartbeat → pong p99',
    unit: 'ms',
    ...of((r) => r.ingestHeartbeatP99),
    note: `${setup}; from the first submit until the coordinator had taken all`,
  })
  ctx.results.add({
    ...common,
    method: 'steady window',
    metric: 'scheduler step p99',
    unit: 'ms',
    ...of((r) => r.stepP99),
    note: `${STEP_HISTOGRAM}, every input, interpolated in its bucket; ${fmtN(median(runs.map((r) => r.steps)))} steps in the window (median)`,
  })
  ctx.results.add({
    ...common,
    method: 'after submitting',
    metric: 'RSS per queued task',
    unit: 'B',
    ...of((r) => r.rssPerTask),
    note: `${setup}; coordinator RSS after a full GC, before the first submit and once all were taken`,
  })
}

function shortN(n: number): string {
  return n >= 1e6 ? `${n / 1e6}M` : n >= 1e3 ? `${n / 1e3}k` : String(n)
}

function fmtN(n: number): string {
  return Math.round(n).toLocaleString('en-US')
}

export async function coordinatorAtScale(ctx: Ctx): Promise<void> {
  await guarded(ctx, 'P11', SYSTEM, ctx.config.quick ? 300_000 : 1_800_000, () => scale(ctx))
}
