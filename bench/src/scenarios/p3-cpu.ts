// P3, CPU scaling: the seed's cpu_heavy loop, scaled down to `cpuTaskMs` per task, `cpuTasks`
// tasks per run on 1 and then 2 processes. Speedup = time(1) / time(2); efficiency = speedup / 2.
import { BackgroundMeter } from '../harness/cpu-load.js'
import { guarded, type Ctx } from '../harness/measure.js'
import { log, type Family } from '../harness/result.js'
import { median } from '../harness/stats.js'
import type { ExecutorSystem, OpenSystem } from './systems.js'

/** The seed's cpu_heavy (self-contained: shipped as source). */
export const cpuHeavy = (n: number): number => {
  let sum = 0
  for (let i = 0; i < n; i++) sum += i
  return sum
}

/** Iterations of `cpuHeavy` that take about `ms` in this process (after warm-up). */
export function calibrate(ms: number): number {
  let n = 1_000_000
  for (;;) {
    const t0 = performance.now()
    cpuHeavy(n)
    const took = performance.now() - t0
    if (took > 30) return Math.max(1, Math.round((n * ms) / took))
    n *= 4
  }
}

let calibrated: { ms: number; iterations: number; expected: number } | undefined

/** The workload every P3 system runs: iterations calibrated once per bench run. */
export function cpuWorkload(cpuTaskMs: number): { iterations: number; expected: number } {
  if (calibrated?.ms !== cpuTaskMs) {
    const iterations = calibrate(cpuTaskMs)
    calibrated = { ms: cpuTaskMs, iterations, expected: cpuHeavy(iterations) }
  }
  return calibrated
}

/**
 * Other processes may use this much CPU (in cores, averaged over a run) before a pair of runs is
 * taken as disturbed and run again. A scaling figure from a shared 2-core machine says little
 * otherwise: outside load that fits on one core leaves the 1-process run alone and slows the
 * 2-process one.
 */
export const QUIET_CORES = 0.1

/** Something that runs the whole P3 workload on 1 or on 2 processes. */
export interface ScalingRunner {
  /** Runs every task once on `procs` processes; resolves when all are done (throws if wrong). */
  run(procs: 1 | 2): Promise<void>
  close(): Promise<void>
}

/** A (1 process, 2 processes) pair of timed runs and the background load during each. */
interface Pair {
  readonly ms: Record<1 | 2, number>
  /** Cores used by other processes, the larger of the two runs; NaN where not measurable. */
  readonly background: number
}

/**
 * Runs the CPU scaling scenario on `one` (1 process) and `two` (2 processes) of the same kind,
 * reported under `label`.
 */
export async function cpuScaling(
  ctx: Ctx,
  label: string,
  one: ExecutorSystem,
  two: ExecutorSystem,
): Promise<void> {
  const { iterations, expected } = cpuWorkload(ctx.config.cpuTaskMs)
  await measureScaling(ctx, label, 'clusterpool', async () => {
    const opened: OpenSystem[] = []
    const close = async (): Promise<void> => {
      for (const o of opened) await o.close()
    }
    try {
      opened.push(await one.open())
      opened.push(await two.open())
    } catch (error) {
      await close()
      throw error
    }
    return {
      async run(procs) {
        const ex = opened[procs - 1]!.executor
        const sums = await Promise.all(
          Array.from({ length: ctx.config.cpuTasks }, () => ex.submit(cpuHeavy, iterations)),
        )
        if (sums.some((s) => s !== expected)) throw new Error('wrong result')
      },
      close,
    }
  })
}

/**
 * Measures 1 → 2 process scaling of what `open` starts, and records it under `label`.
 *
 * Both process counts stay open and their runs alternate (1, 2, 1, 2, …), so that a burst of
 * load from elsewhere hits both alike. Each first runs the whole workload once, untimed: every
 * process has compiled `cpuHeavy`, and a pool knows how long it takes (as Python's pool, it then
 * hands out one task per free process). A pair of runs during which other processes used more
 * than `QUIET_CORES` is run again, up to `3 × runs` pairs; the note says how many were.
 */
export async function measureScaling(
  ctx: Ctx,
  label: string,
  family: Family,
  open: () => Promise<ScalingRunner>,
): Promise<void> {
  const { config, results } = ctx
  const { iterations } = cpuWorkload(config.cpuTaskMs)
  const maxPairs = config.runs * 3
  const quiet: Pair[] = []
  const disturbed: Pair[] = []
  const budget = config.cpuTasks * config.cpuTaskMs * (maxPairs + 1) * 4 + 120_000
  const ok = await guarded(ctx, 'P3', label, budget, async () => {
    // Opened before the system starts: whatever runs already is background.
    const meter = BackgroundMeter.open()
    const runner = await open()
    try {
      for (const procs of [1, 2] as const) await runner.run(procs)
      while (quiet.length < config.runs && quiet.length + disturbed.length < maxPairs) {
        const ms = { 1: 0, 2: 0 }
        let background = meter === undefined ? Number.NaN : 0
        for (const procs of [1, 2] as const) {
          meter?.start()
          const t0 = performance.now()
          await runner.run(procs)
          ms[procs] = performance.now() - t0
          if (meter) background = Math.max(background, meter.stop())
        }
        const isQuiet = !(background > QUIET_CORES)
        ;(isQuiet ? quiet : disturbed).push({ ms, background })
        log(
          `P3 ${label}: ${ms[1].toFixed(0)} ms on 1, ${ms[2].toFixed(0)} ms on 2 ` +
            `(${((ms[1] / ms[2] / 2) * 100).toFixed(1)} %), other processes ` +
            `${background.toFixed(2)} cores${isQuiet ? '' : ': run again'}`,
        )
      }
    } finally {
      await runner.close()
    }
  })
  if (!ok) return
  // Too few quiet pairs: the least disturbed of the others make up the number.
  const kept = [
    ...quiet,
    ...disturbed.sort((a, b) => a.background - b.background).slice(0, config.runs - quiet.length),
  ]
  const times: Record<1 | 2, number[]> = {
    1: kept.map((p) => p.ms[1]),
    2: kept.map((p) => p.ms[2]),
  }
  const note = [
    `${config.cpuTasks} tasks of cpu_heavy(${iterations.toExponential(1)}), about ${config.cpuTaskMs} ms each`,
    backgroundNote(kept, quiet.length, disturbed.length),
  ].join('; ')
  for (const procs of [1, 2] as const) {
    results.add({
      scenario: 'P3',
      system: label,
      family,
      method: `${procs} process${procs > 1 ? 'es' : ''}`,
      metric: 'elapsed',
      unit: 'ms',
      better: 'lower',
      median: median(times[procs]),
      runs: times[procs],
      note,
    })
  }
  const speedups = times[1].map((t, i) => t / times[2][i]!)
  const common = {
    scenario: 'P3',
    system: label,
    family,
    method: '1 → 2 processes',
    note,
  } as const
  results.add({
    ...common,
    metric: 'speedup',
    unit: '×',
    better: 'higher',
    median: median(speedups),
    runs: speedups,
  })
  const eff = speedups.map((s) => (s / 2) * 100)
  results.add({
    ...common,
    metric: 'efficiency',
    unit: '%',
    better: 'higher',
    median: median(eff),
    runs: eff,
  })
}

/** What the background load was during the pairs kept, and how many were run again. */
function backgroundNote(kept: readonly Pair[], quiet: number, disturbed: number): string {
  if (kept.some((p) => Number.isNaN(p.background))) return 'background load not measured (no /proc)'
  const worst = Math.max(...kept.map((p) => p.background))
  const parts = [`other processes used at most ${worst.toFixed(2)} cores during the runs kept`]
  if (disturbed > 0) {
    parts.push(
      quiet >= kept.length
        ? `${disturbed} pair(s) run again because other processes used over ${QUIET_CORES} cores`
        : `only ${quiet} of ${kept.length} pairs were quiet (other processes under ${QUIET_CORES} cores)`,
    )
  }
  return parts.join(', ')
}
