// `npm run bench`: every scenario for clusterpool and, in the same run, for the anchors (Dask
// distributed, Python's concurrent.futures, piscina, the raw ws+msgpackr wire floor). Writes
// RESULTS.md, results.json and throughput.svg. See USAGE in harness/config.ts.
import { mkdir, writeFile } from 'node:fs/promises'
import { join, relative } from 'node:path'

import { cpuFloorAnchor } from './anchors/cpu-floor.js'
import { runPythonScript } from './anchors/python.js'
import { PYTHON, ensurePythonEnv, type PythonEnv } from './anchors/python-env.js'
import { piscinaAnchor } from './anchors/piscina.js'
import { freshPathFloor, pathFloorAnchor } from './anchors/path-floor.js'
import { wireFloorAnchor } from './anchors/wire-floor.js'
import { benchDir, parseConfig, USAGE, type BenchConfig } from './harness/config.js'
import { killAll, killAllNow } from './harness/children.js'
import { machineInfo } from './harness/machine.js'
import { guarded, type Ctx } from './harness/measure.js'
import { Results, log } from './harness/result.js'
import { checkGoals } from './report/goals.js'
import { renderMarkdown } from './report/markdown.js'
import { renderThroughputSvg } from './report/svg.js'
import { loadLocalCluster, localCluster } from './scenarios/cluster.js'
import { roundTripAndThroughput } from './scenarios/p1-p2.js'
import { cpuScaling } from './scenarios/p3-cpu.js'
import { makespanLocalCluster } from './scenarios/p4-cluster.js'
import { makespanClusterpool, makespanDask } from './scenarios/p4-makespan.js'
import { freshClusterRoundTrips, ownProcessClient } from './scenarios/own-client.js'
import { memoryScenarios } from './scenarios/p5-memory.js'
import { dataMovement } from './scenarios/p6-data.js'
import { hostilePeers } from './scenarios/p7-hostile.js'
import { nestedFanOut, nestedFanOutDask } from './scenarios/p8-nested.js'
import { memoryManagement } from './scenarios/p10-memory.js'
import { coordinatorAtScale } from './scenarios/p11-scale.js'
import { recovery } from './scenarios/p9-recovery.js'
import { loadClient, processPool, threadPool } from './scenarios/systems.js'

const WORKERS = 2

async function clusterpoolScenarios(ctx: Ctx): Promise<void> {
  const { config, results } = ctx
  const wantsLocal = config.systems.has('clusterpool')
  const wantsCluster = config.systems.has('cluster')
  if (!wantsLocal && !wantsCluster) return
  try {
    await loadClient()
  } catch (error) {
    results.note(
      `@clusterpool/client did not load, every clusterpool scenario is skipped: ${(error as Error).message.split('\n')[0]}`,
    )
    return
  }
  const cluster = wantsCluster ? await loadLocalCluster() : undefined
  if (cluster && 'reason' in cluster)
    results.note(`LocalCluster scenarios skipped: ${cluster.reason}`)
  const LocalCluster = cluster && 'LocalCluster' in cluster ? cluster.LocalCluster : undefined

  if (config.only.has('P1') || config.only.has('P2')) {
    if (wantsLocal) {
      await roundTripAndThroughput(ctx, threadPool(WORKERS), WORKERS)
      await roundTripAndThroughput(ctx, processPool(WORKERS), WORKERS)
    }
    if (LocalCluster) {
      // The figure that counts: the client as a user runs it, a process of its own.
      await ownProcessClient(ctx, WORKERS)
      if (config.only.has('P1')) await freshClusterRoundTrips(ctx, WORKERS)
      await roundTripAndThroughput(ctx, localCluster(LocalCluster, WORKERS, 1), WORKERS)
      // The coordinator's in-process client: no client socket, for comparison (full mode only).
      if (!config.quick) {
        await roundTripAndThroughput(ctx, localCluster(LocalCluster, WORKERS, 1, true), WORKERS)
      }
    }
  }
  if (config.only.has('P3')) {
    // The machine's own ceiling, measured next to the systems it is compared with.
    if (config.systems.has('floor')) await cpuFloorAnchor(ctx)
    if (wantsLocal) {
      await cpuScaling(ctx, 'clusterpool ProcessPool', processPool(1), processPool(2))
      await cpuScaling(ctx, 'clusterpool ThreadPool', threadPool(1), threadPool(2))
    }
    if (LocalCluster) {
      await cpuScaling(
        ctx,
        'clusterpool LocalCluster (workers × 1 proc)',
        localCluster(LocalCluster, 1, 1),
        localCluster(LocalCluster, 2, 1),
      )
    }
  }
}

async function pythonAnchors(ctx: Ctx, env: PythonEnv): Promise<void> {
  const { config } = ctx
  if (config.systems.has('python') && env.python) {
    const only = (['P1', 'P2', 'P3'] as const).filter((s) => config.only.has(s))
    if (only.length > 0) {
      await runPythonScript(
        ctx,
        only[0]!,
        'pools.py',
        {
          only,
          runs: config.runs,
          ns: config.ns,
          cap_s: config.capSeconds,
          round_trips: config.roundTrips,
          workers: WORKERS,
          cpu_tasks: config.cpuTasks,
          cpu_task_ms: config.cpuTaskMs,
        },
        config.quick ? 240_000 : 2_400_000,
      )
    }
  }
  if (config.systems.has('dask') && env.dask) {
    const only = (['P1', 'P2'] as const).filter((s) => config.only.has(s))
    if (only.length > 0) {
      await runPythonScript(
        ctx,
        only[0]!,
        'dask_bench.py',
        {
          only,
          runs: config.runs,
          ns: config.daskNs,
          cap_s: config.capSeconds * 2,
          round_trips: config.daskRoundTrips,
        },
        config.quick ? 180_000 : 1_200_000,
      )
    }
  }
}

async function run(config: BenchConfig): Promise<void> {
  const started = performance.now()
  const results = new Results()
  const ctx: Ctx = { config, results }
  log(
    `mode ${config.quick ? 'quick' : 'full'}; scenarios ${[...config.only].join(',')}; systems ${[...config.systems].join(',')}; output ${config.outDir}`,
  )
  if (config.quick) results.note('quick mode: small sizes and capped runs, for development only')

  const needsPython =
    (config.systems.has('python') && ['P1', 'P2', 'P3'].some((s) => config.only.has(s as never))) ||
    (config.systems.has('dask') &&
      ['P1', 'P2', 'P4', 'P8', 'P10'].some((s) => config.only.has(s as never)))
  const env: PythonEnv = needsPython
    ? await ensurePythonEnv(!config.noInstall)
    : { python: false, dask: false, problems: [] }
  for (const p of env.problems) results.note(p)
  if (env.dask && (config.only.has('P1') || config.only.has('P2')))
    results.note(
      `Dask sizes are capped at N=${config.daskNs.join(', ')}: it runs about 600 no-op tasks/s on this kind of machine`,
    )
  const machine = await machineInfo(PYTHON)

  const wantsRtOrTp = config.only.has('P1') || config.only.has('P2')
  if (wantsRtOrTp && config.systems.has('floor')) {
    await guarded(ctx, 'P2', 'wire floor', 900_000, () => wireFloorAnchor(ctx))
    await guarded(ctx, 'P2', 'path floor', 900_000, () => pathFloorAnchor(ctx))
    if (config.only.has('P1'))
      await guarded(ctx, 'P1', 'path floor, fresh', 600_000, () => freshPathFloor(ctx))
  }
  if (wantsRtOrTp && config.systems.has('piscina'))
    await guarded(ctx, 'P2', 'piscina', 900_000, () => piscinaAnchor(ctx))
  await clusterpoolScenarios(ctx)
  await pythonAnchors(ctx, env)
  if (config.only.has('P4')) {
    if (config.systems.has('clusterpool') || config.systems.has('cluster'))
      await makespanClusterpool(ctx)
    if (config.systems.has('cluster')) await makespanLocalCluster(ctx)
    if (config.systems.has('dask') && env.dask)
      await guarded(ctx, 'P4', 'Dask', 7_200_000, () => makespanDask(ctx))
  }
  if (config.only.has('P5') && config.systems.has('cluster')) {
    const cluster = await loadLocalCluster()
    if ('reason' in cluster)
      results.skip({
        scenario: 'P5',
        system: 'clusterpool coordinator and client',
        reason: cluster.reason,
      })
    else await memoryScenarios(ctx)
  }

  if (config.only.has('P6') && config.systems.has('cluster')) await dataMovement(ctx)
  if (config.only.has('P7') && config.systems.has('cluster')) await hostilePeers(ctx)
  if (config.only.has('P8')) {
    await nestedFanOut(ctx)
    if (config.systems.has('dask') && env.dask) await nestedFanOutDask(ctx)
  }
  if (config.only.has('P10') && config.systems.has('cluster'))
    await memoryManagement(ctx, config.systems.has('dask') && env.dask)
  if (config.only.has('P9') && config.systems.has('cluster')) await recovery(ctx)
  if (config.only.has('P11') && config.systems.has('cluster')) await coordinatorAtScale(ctx)

  const elapsedS = (performance.now() - started) / 1000
  const goals = checkGoals(results.measurements)
  await mkdir(config.outDir, { recursive: true })
  const svg = renderThroughputSvg(
    results.measurements,
    `No-op task throughput vs N, ${machine.cores} cores (${config.quick ? 'quick mode' : machine.date.slice(0, 10)})`,
  )
  const chartFile = svg ? 'throughput.svg' : undefined
  if (svg) await writeFile(join(config.outDir, 'throughput.svg'), svg)
  const markdown = renderMarkdown({
    config,
    machine,
    results,
    goals,
    daskVersion: env.daskVersion,
    elapsedS,
    chartFile,
  })
  await writeFile(join(config.outDir, 'RESULTS.md'), await pretty(markdown, 'markdown'))
  const json = {
    machine,
    daskVersion: env.daskVersion ?? null,
    config: { ...config, only: [...config.only], systems: [...config.systems] },
    elapsedS,
    goals,
    measurements: results.measurements,
    skips: results.skips,
    failures: results.failures,
    notes: results.notes,
  }
  await writeFile(
    join(config.outDir, 'results.json'),
    await pretty(`${JSON.stringify(json, null, 2)}\n`, 'json'),
  )
  const where = relative(process.cwd(), config.outDir) || '.'
  log(
    `done in ${elapsedS.toFixed(0)} s: ${where}/RESULTS.md, results.json${svg ? ', throughput.svg' : ''}; ${results.failures.length} failure(s)`,
  )
}

/** The repository's prettier style, so generated files pass `npm run format:check`. */
async function pretty(text: string, parser: 'markdown' | 'json'): Promise<string> {
  try {
    const prettier = await import('prettier')
    const options = (await prettier.resolveConfig(join(benchDir(), 'RESULTS.md'))) ?? {}
    return await prettier.format(text, { ...options, parser })
  } catch {
    return text
  }
}

process.on('exit', killAllNow)
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    killAllNow()
    process.exit(130)
  })
}

let config: BenchConfig
try {
  config = parseConfig(process.argv.slice(2))
} catch (error) {
  console.error(`${(error as Error).message}\n\n${USAGE}`)
  process.exit(2)
}
try {
  await run(config)
} catch (error) {
  console.error(error)
  process.exitCode = 1
} finally {
  await killAll()
}
// Pools and sockets that failed to close must not keep the bench alive.
process.exit(process.exitCode ?? 0)
