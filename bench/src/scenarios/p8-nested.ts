// P8, nested fan-out. A tree of tasks that submit tasks (`currentTask().executor`): branching
// 10, four levels below the root, 10,000 leaves of 1 ms (a sleep) on a LocalCluster of 2 workers
// × 2 procs. Every inner task waits for its children, so it must free its slot or the tree
// deadlocks; Dask's `worker_client` (which secedes) runs the same tree in the same run. The
// figure is the makespan against its lower bound, the leaves' work over the 4 slots.
//
// Also the wait-for graph's cost: on a graph of 100k waiting tasks, the time to add a child and
// the await on it (no cycle), and a child taking its parent's future plus the await that closes
// the cycle (the DeadlockError is made).
import { WaitForGraph } from '@clusterpool/protocol'

import type { Ctx } from '../harness/measure.js'
import { median } from '../harness/stats.js'
import { errorText, withTimeout } from '../harness/timeout.js'
import { runPythonScript } from '../anchors/python.js'

export const BRANCHING = 10
export const DEPTH = 4
export const LEAF_MS = 1
export const WORKERS = 2
export const PROCS = 2
const LEAVES = BRANCHING ** DEPTH
const LOWER_BOUND_MS = (LEAVES * LEAF_MS) / (WORKERS * PROCS)
const METHOD = `${BRANCHING}^${DEPTH} leaves of ${LEAF_MS} ms, ${WORKERS}×${PROCS} slots`

/** One node of the tree: a leaf sleeps; an inner node submits its children and sums them. */
const node = async function node(
  depth: number,
  branching: number,
  leafMs: number,
): Promise<number> {
  if (depth === 0) {
    await new Promise((resolve) => setTimeout(resolve, leafMs))
    return 1
  }
  const ctx = (
    globalThis as { currentTask?: () => { executor: { submit: (...args: unknown[]) => unknown } } }
  ).currentTask!()
  const children: PromiseLike<number>[] = []
  for (let i = 0; i < branching; i++)
    children.push(ctx.executor.submit(node, depth - 1, branching, leafMs) as PromiseLike<number>)
  let sum = 0
  for (const n of await Promise.all(children)) sum += n
  return sum
}

export async function nestedFanOut(ctx: Ctx): Promise<void> {
  const { config, results } = ctx
  if (config.systems.has('cluster')) {
    const system = `clusterpool LocalCluster ${WORKERS}×${PROCS}`
    try {
      const runs = await clusterpoolRuns(config.runs)
      results.add({
        scenario: 'P8',
        system,
        family: 'clusterpool',
        method: METHOD,
        metric: 'makespan / lower bound',
        unit: '×',
        better: 'lower',
        median: median(runs.map((r) => r / LOWER_BOUND_MS)),
        runs: runs.map((r) => r / LOWER_BOUND_MS),
        note: `makespans ${runs.map((r) => Math.round(r)).join(', ')} ms; lower bound ${LOWER_BOUND_MS} ms`,
      })
    } catch (error) {
      results.fail({ scenario: 'P8', system, error: errorText(error) })
    }
    graphCost(ctx)
  }
  if (config.systems.has('clusterpool')) {
    try {
      await sameOrFreshProcess(ctx)
    } catch (error) {
      results.fail({ scenario: 'P8', system: 'clusterpool ProcessPool', error: errorText(error) })
    }
  }
}

/**
 * Where a waiting task's slot goes: to the next task in the same process (the default, up to
 * `maxWaitingPerChild` waits per process), or to a fresh process (`maxWaitingPerChild: 1`: a
 * process whose task waits takes nothing else, so the pool starts another). A smaller tree
 * (10^3 leaves) on a ProcessPoolExecutor of 2, makespan against the same lower bound.
 */
async function sameOrFreshProcess(ctx: Ctx): Promise<void> {
  const { ProcessPoolExecutor } = await import('clusterpool')
  const depth = 3
  const slots = 2
  const bound = (BRANCHING ** depth * LEAF_MS) / slots
  for (const [label, maxWaitingPerChild] of [
    ['the same process (maxWaitingPerChild 64)', 64],
    ['a fresh process (maxWaitingPerChild 1)', 1],
  ] as const) {
    const runs: number[] = []
    const spawned: number[] = []
    for (let r = 0; r <= ctx.config.runs; r++) {
      const ex = new ProcessPoolExecutor({ maxWorkers: slots, maxWaitingPerChild })
      try {
        await ex.submit(node, 1, slots, 0)
        const t0 = performance.now()
        const leaves = await ex.submit(node, depth, BRANCHING, LEAF_MS).result(600_000)
        const ms = performance.now() - t0
        if (leaves !== BRANCHING ** depth) throw new Error(`the tree counted ${leaves} leaves`)
        if (r > 0) {
          runs.push(ms / bound)
          spawned.push(ex.stats.workers)
        }
      } finally {
        await ex.shutdown()
      }
    }
    ctx.results.add({
      scenario: 'P8',
      system: `clusterpool ProcessPool ${slots}, a waiting task's slot goes to ${label}`,
      family: 'clusterpool',
      method: `${BRANCHING}^${depth} leaves of ${LEAF_MS} ms, ${slots} slots`,
      metric: 'makespan / lower bound',
      unit: '×',
      better: 'lower',
      median: median(runs),
      runs,
      note: `processes alive at the end: ${spawned.join(', ')}; lower bound ${bound} ms`,
    })
  }
}

/** Dask's run of the same tree, with `worker_client` (run only when Dask is installed). */
export async function nestedFanOutDask(ctx: Ctx): Promise<void> {
  await runPythonScript(
    ctx,
    'P8',
    'dask_nested.py',
    {
      runs: ctx.config.runs,
      branching: BRANCHING,
      depth: DEPTH,
      leaf_ms: LEAF_MS,
      workers: WORKERS,
      procs: PROCS,
      lower_bound_ms: LOWER_BOUND_MS,
      method: METHOD,
    },
    ctx.config.quick ? 600_000 : 1_800_000,
  )
}

async function clusterpoolRuns(runs: number): Promise<number[]> {
  const { LocalCluster } = await import('clusterpool')
  const out: number[] = []
  for (let r = 0; r <= runs; r++) {
    const cluster = await withTimeout(
      LocalCluster.start({
        workers: WORKERS,
        procs: PROCS,
        workerOutput: 'ignore',
        coordinator: { logLevel: 'silent' },
      }),
      60_000,
      'LocalCluster.start',
    )
    try {
      const ex = cluster.executor()
      // Warm: every process has compiled the function once.
      await ex.submit(node, 1, WORKERS * PROCS, 0)
      const t0 = performance.now()
      const leaves = await withTimeout(
        ex.submit(node, DEPTH, BRANCHING, LEAF_MS).result(),
        600_000,
        'the nested tree',
      )
      const ms = performance.now() - t0
      if (leaves !== LEAVES) throw new Error(`the tree counted ${leaves} leaves, not ${LEAVES}`)
      if (r > 0) out.push(ms) // run 0 warms up
      await ex.shutdown()
    } finally {
      await cluster.close()
    }
  }
  return out
}

/** The wait-for graph's cost per edge on a tree of 100k waiting tasks. */
function graphCost(ctx: Ctx): void {
  const g = new WaitForGraph()
  let next = 0
  let level = [`n${next++}`]
  g.add(level[0]!, 'root')
  while (g.size < 100_000) {
    const below: string[] = []
    for (const parent of level) {
      for (let k = 0; k < 10 && g.size < 100_000; k++) {
        const key = `n${next++}`
        g.add(key, 'node')
        g.addEdge(parent, key, 'await')
        below.push(key)
      }
    }
    level = below
  }
  const rounds = 20_000
  const measure = (cycle: boolean): number[] => {
    const runs: number[] = []
    for (let r = 0; r < ctx.config.runs; r++) {
      const t0 = process.hrtime.bigint()
      for (let i = 0; i < rounds; i++) {
        const leaf = level[i % level.length]!
        const child = `x${r}-${i}`
        g.add(child, 'child')
        if (cycle) g.addEdge(child, leaf, 'dependency')
        g.addEdge(leaf, child, 'await')
        g.remove(child)
      }
      runs.push(Number(process.hrtime.bigint() - t0) / 1000 / rounds)
    }
    return runs
  }
  for (const [cycle, method] of [
    [false, 'a child and its await (no cycle)'],
    [true, "a child on its parent's future, and the await that closes the cycle"],
  ] as const) {
    const runs = measure(cycle)
    ctx.results.add({
      scenario: 'P8',
      system: 'clusterpool wait-for graph, 100k waiting tasks',
      family: 'clusterpool',
      method,
      metric: 'time per edge added',
      unit: 'µs',
      better: 'lower',
      median: median(runs),
      runs,
      note: 'includes adding and removing the child; the cycle case builds the DeadlockError',
    })
  }
}
