// P3, CPU scaling: the seed's cpu_heavy loop, scaled down to `cpuTaskMs` per task, `cpuTasks`
// tasks per run on 1 and then 2 processes. Speedup = time(1) / time(2); efficiency = speedup / 2.
import { guarded, type Ctx } from '../harness/measure.js'
import { median } from '../harness/stats.js'
import type { ExecutorSystem } from './systems.js'

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

/**
 * Runs the CPU scaling scenario on `one` (1 process) and `two` (2 processes) of the same kind,
 * reported under `label`. Both are open at once and their runs alternate (1, 2, 1, 2, …), so a
 * burst of load from elsewhere on the machine hits both alike. The iteration count is calibrated
 * once per bench run, so every clusterpool system runs the same work.
 */
export async function cpuScaling(
  ctx: Ctx,
  label: string,
  one: ExecutorSystem,
  two: ExecutorSystem,
): Promise<void> {
  const { config, results } = ctx
  if (calibrated?.ms !== config.cpuTaskMs) {
    const iterations = calibrate(config.cpuTaskMs)
    calibrated = { ms: config.cpuTaskMs, iterations, expected: cpuHeavy(iterations) }
  }
  const { iterations, expected } = calibrated
  const note = `${config.cpuTasks} tasks of cpu_heavy(${iterations.toExponential(1)}), about ${config.cpuTaskMs} ms each`
  const times: Record<1 | 2, number[]> = { 1: [], 2: [] }
  const budget = config.cpuTasks * config.cpuTaskMs * config.runs * 4 + 120_000
  const ok = await guarded(ctx, 'P3', label, budget, async () => {
    const opened: Awaited<ReturnType<ExecutorSystem['open']>>[] = []
    try {
      opened.push(await one.open())
      opened.push(await two.open())
      for (const o of opened) {
        await Promise.all([0, 1, 2, 3].map(() => o.executor.submit(cpuHeavy, 1000)))
      }
      for (let r = 0; r < config.runs; r++) {
        for (const procs of [1, 2] as const) {
          const ex = opened[procs - 1]!.executor
          const t0 = performance.now()
          const sums = await Promise.all(
            Array.from({ length: config.cpuTasks }, () => ex.submit(cpuHeavy, iterations)),
          )
          times[procs].push(performance.now() - t0)
          if (sums.some((s) => s !== expected)) throw new Error('wrong result')
        }
      }
    } finally {
      for (const o of opened) await o.close()
    }
  })
  if (!ok) return
  for (const procs of [1, 2] as const) {
    results.add({
      scenario: 'P3',
      system: label,
      family: 'clusterpool',
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
    family: 'clusterpool',
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
