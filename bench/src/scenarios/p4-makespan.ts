// P4, makespan / lower bound for each scheduling scenario, for three schedulers:
// - clusterpool's scheduler, through the coordinator's discrete-event simulator (`simulate`
//   from @clusterpool/coordinator: the real scheduler code, simulated workers and clock);
// - plain round-robin, computed analytically;
// - Dask distributed, measured with sleeping tasks (bench/python/dask_makespan.py).
import { runPythonScript } from '../anchors/python.js'
import type { Ctx } from '../harness/measure.js'
import { median } from '../harness/stats.js'
import { errorText } from '../harness/timeout.js'
import {
  MAKESPAN_SCENARIOS,
  lowerBoundMs,
  roundRobinMakespanMs,
  scaled,
  shrunk,
  type MakespanScenario,
  type ScenarioWorker,
} from './p4-scenarios.js'

const METRIC = 'makespan / lower bound'
const COORDINATOR = '@clusterpool/coordinator/sim'

interface SimulateFn {
  (
    workers: readonly ScenarioWorker[],
    tasks: MakespanScenario['tasks'],
    options?: object,
  ): {
    makespanMs: number
    complete: boolean
  }
}

function add(
  ctx: Ctx,
  system: string,
  family: 'clusterpool' | 'anchor',
  s: MakespanScenario,
  runs: number[],
  note: string,
): void {
  ctx.results.add({
    scenario: 'P4',
    system,
    family,
    method: s.name,
    metric: METRIC,
    n: s.tasks.length,
    unit: '×',
    better: 'lower',
    median: median(runs),
    runs,
    note,
  })
}

/** Round-robin baseline (always) and clusterpool's simulated scheduler (when exported). */
export async function makespanClusterpool(ctx: Ctx): Promise<void> {
  for (const s of MAKESPAN_SCENARIOS) {
    const lb = lowerBoundMs(s.workers, s.tasks)
    const rr = roundRobinMakespanMs(s) / lb
    add(ctx, 'round-robin (analytic)', 'anchor', s, [rr, rr, rr], 'deterministic')
  }
  let simulate: SimulateFn | undefined
  try {
    const mod = (await import(COORDINATOR)) as { simulate?: SimulateFn }
    simulate = mod.simulate
  } catch (error) {
    ctx.results.skip({
      scenario: 'P4',
      system: 'clusterpool scheduler',
      reason: `${COORDINATOR} did not load: ${errorText(error)}`,
    })
    return
  }
  if (typeof simulate !== 'function') {
    ctx.results.skip({
      scenario: 'P4',
      system: 'clusterpool scheduler',
      reason: `pending: ${COORDINATOR} does not export simulate() yet`,
    })
    return
  }
  for (const s of MAKESPAN_SCENARIOS) {
    try {
      const r = simulate(s.workers, s.tasks)
      if (!r.complete) throw new Error('the simulation did not complete')
      const ratio = r.makespanMs / lowerBoundMs(s.workers, s.tasks)
      add(
        ctx,
        'clusterpool scheduler (simulated)',
        'clusterpool',
        s,
        [ratio, ratio, ratio],
        'deterministic simulation',
      )
    } catch (error) {
      ctx.results.fail({
        scenario: 'P4',
        system: `clusterpool scheduler · ${s.name}`,
        error: errorText(error),
      })
    }
  }
}

/** Dask's makespans, each against the lower bound with the join times Dask actually achieved. */
export async function makespanDask(ctx: Ctx): Promise<void> {
  const { config } = ctx
  const scale = config.makespanScale
  const fraction = config.makespanTaskFraction
  const scenarios = MAKESPAN_SCENARIOS.map((s) => shrunk(s, fraction))
  const runs = new Map<string, number[]>()
  const budgetMs =
    scenarios.reduce((a, s) => a + lowerBoundMs(s.workers, s.tasks) * scale * 5 + 15_000, 0) *
      config.makespanRuns +
    60_000
  await runPythonScript(
    ctx,
    'P4',
    'dask_makespan.py',
    { scenarios, scale, runs: config.makespanRuns },
    budgetMs,
    (r) => {
      if (r.type !== 'makespan') return
      const s = scenarios.find((x) => x.name === r.scenario)
      if (s === undefined) return
      const joined = (r.joinedAtMs ?? {}) as Record<string, number>
      const actual = scaled(s, scale)
      const workers = actual.workers.map((w) =>
        joined[w.id] === undefined ? w : { ...w, joinAtMs: joined[w.id] },
      )
      const ratio = (r.makespanMs as number) / lowerBoundMs(workers, actual.tasks)
      runs.set(s.name, [...(runs.get(s.name) ?? []), ratio])
    },
  )
  for (const s of scenarios) {
    const values = runs.get(s.name)
    if (values === undefined || values.length === 0) continue
    const notes = [`sleeping tasks, durations ×${scale}, a fresh cluster per run`]
    if (s.workers.some((w) => (w.joinAtMs ?? 0) > 0)) {
      notes.push(
        'in "worker joins" the bound uses the time the worker actually joined (its start-up counts against the bound, not Dask)',
      )
    }
    if (fraction < 1) notes.push(`quick mode: ${fraction * 100}% of each scenario's tasks`)
    if (values.length < 3) notes.push(`${values.length} run(s) per scenario`)
    add(ctx, 'Dask distributed (measured)', 'anchor', s, values, notes.join('; '))
  }
}
