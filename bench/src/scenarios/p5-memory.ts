// P5, memory:
// - coordinator bytes per pending task: a LocalCluster with 0 workers in a child process; this
//   process submits N tasks to it and compares the child's RSS (after a full GC) before and after;
// - client RSS for an N-item `map`: a child client maps N items through a LocalCluster 2×1 and
//   reports its peak RSS growth.
import { fileURLToPath } from 'node:url'

import type { Executor } from 'clusterpool'

import { runJsonLines } from '../harness/children.js'
import { guarded, type Ctx } from '../harness/measure.js'
import { log } from '../harness/result.js'
import { median } from '../harness/stats.js'
import { sleep } from '../harness/timeout.js'
import { startClusterHost } from './cluster-host.js'
import { connectTo } from './cluster.js'
import {
  CHILDREN,
  NODE_ARGS,
  STALL_LIMIT_MS,
  SUBMIT_SLICE,
  coordinatorStatus,
  watchForLoss,
} from './coordinator-child.js'
import { inc, shutdownQuietly } from './systems.js'

/** Tasks the coordinator holds according to /api/status, or undefined if it does not say. */
async function coordinatorTaskCount(
  url: string,
  token: string | undefined,
): Promise<number | undefined> {
  const tasks = (await coordinatorStatus(url, token))?.tasks
  if (typeof tasks !== 'object' || tasks === null) return undefined
  // `total` is the number of task records held; without it, the sum of the per-state counts.
  const total = (tasks as { total?: unknown }).total
  if (typeof total === 'number') return total
  let sum = 0
  for (const v of Object.values(tasks)) if (typeof v === 'number') sum += v
  return sum
}

/** One run: bytes per pending task (RSS and heap) and how the end of submission was detected. */
async function pendingTaskMemoryOnce(
  n: number,
): Promise<{ rss: number; heap: number; how: string }> {
  const coordinator = await startClusterHost(0)
  let executor: Executor | undefined
  try {
    executor = await connectTo(coordinator.url, coordinator.token)
    const before = await coordinator.memory()
    const futures = new Array<PromiseLike<number>>(n)
    let watch: { error: Error | undefined } | undefined
    for (let i = 0; i < n; i++) {
      const future = executor.submit(inc, i)
      futures[i] = future
      if (i === 0) watch = watchForLoss(future)
      if ((i + 1) % SUBMIT_SLICE === 0) {
        await new Promise((resolve) => setImmediate(resolve))
        if (watch?.error) throw watch.error
      }
    }
    // Wait until the coordinator holds all N: its status count if it has one, else a stable RSS.
    let how = 'RSS stable for 1 s'
    let last = 0
    let stable = 0
    let lastCount = -1
    let progressAt = performance.now()
    for (;;) {
      await sleep(250)
      if (watch?.error) throw watch.error
      const count = await coordinatorTaskCount(coordinator.url, coordinator.token)
      if (count !== undefined && count >= n) {
        how = '/api/status counted all N'
        break
      }
      if (count !== undefined) {
        if (count > lastCount) {
          lastCount = count
          progressAt = performance.now()
        } else if (performance.now() - progressAt > STALL_LIMIT_MS) {
          throw new Error(
            `the coordinator's task count stood at ${count} of ${n} for ${STALL_LIMIT_MS / 1000} s`,
          )
        }
        continue
      }
      // No count available: wait for RSS to settle (each sample costs the child a full GC).
      const rss = (await coordinator.memory()).rss
      stable = Math.abs(rss - last) < rss * 0.002 ? stable + 1 : 0
      last = rss
      if (stable >= 4) break
    }
    const after = await coordinator.memory()
    log(
      `P5: coordinator RSS ${(before.rss / 2 ** 20).toFixed(0)} → ${(after.rss / 2 ** 20).toFixed(0)} MiB (${how})`,
    )
    return { rss: (after.rss - before.rss) / n, heap: (after.heapUsed - before.heapUsed) / n, how }
  } finally {
    // The coordinator goes first: the client then only has to fail its futures, not cancel
    // a million tasks one by one over the socket.
    await coordinator.close()
    if (executor) await shutdownQuietly(executor)
  }
}

async function pendingTaskMemory(ctx: Ctx): Promise<void> {
  const n = ctx.config.memoryPending
  const rss: number[] = []
  const heap: number[] = []
  const how = new Set<string>()
  for (let r = 0; r < ctx.config.runs; r++) {
    const once = await pendingTaskMemoryOnce(n)
    rss.push(once.rss)
    heap.push(once.heap)
    how.add(once.how)
  }
  const common = {
    scenario: 'P5',
    system: 'clusterpool coordinator (LocalCluster, 0 workers)',
    family: 'clusterpool',
    method: 'pending tasks',
    n,
    unit: 'B',
    better: 'lower',
    note: `${n} pending tasks, fresh coordinator per run; after a full GC, measured when ${[...how].join(' / ')}`,
  } as const
  ctx.results.add({ ...common, metric: 'RSS per pending task', median: median(rss), runs: rss })
  ctx.results.add({ ...common, metric: 'heap per pending task', median: median(heap), runs: heap })
}

async function clientMapMemory(ctx: Ctx): Promise<void> {
  const n = ctx.config.memoryMapItems
  const coordinator = await startClusterHost(2)
  try {
    const script = fileURLToPath(new URL('p5-client.ts', CHILDREN))
    const deltas: number[] = []
    const seconds: number[] = []
    let baseRss = 0
    for (let r = 0; r < ctx.config.runs; r++) {
      let report: Record<string, unknown> | undefined
      const run = await runJsonLines(
        process.execPath,
        [...NODE_ARGS, script, coordinator.url, coordinator.token ?? '-', String(n)],
        600_000,
        (line) => (report = line),
      )
      if (report === undefined)
        throw new Error(`client exited ${run.code ?? run.signal}: ${run.stderrTail}`)
      if (report.ok !== true) throw new Error('the map returned wrong results')
      deltas.push((report.peakRssDelta as number) / 2 ** 20)
      seconds.push((report.elapsedMs as number) / 1000)
      baseRss = report.baseRss as number
    }
    ctx.results.add({
      scenario: 'P5',
      system: 'clusterpool client (ClusterExecutor → LocalCluster 2×1)',
      family: 'clusterpool',
      method: 'map chunksize=100',
      metric: 'peak RSS growth',
      n,
      unit: 'MiB',
      better: 'lower',
      median: median(deltas),
      runs: deltas,
      note: `a new client process per run; ${n} items in ${median(seconds).toFixed(1)} s (median); base RSS ${(baseRss / 2 ** 20).toFixed(0)} MiB`,
    })
  } finally {
    await coordinator.close()
  }
}

export async function memoryScenarios(ctx: Ctx): Promise<void> {
  await guarded(ctx, 'P5', 'coordinator per pending task', 600_000, () => pendingTaskMemory(ctx))
  await guarded(ctx, 'P5', 'client map', 700_000, () => clientMapMemory(ctx))
}
