// P4 on a real LocalCluster: the same scenarios as the simulation and Dask, with sleeping tasks
// on worker daemon processes over WebSocket, so the scheduler's figure includes every real
// latency (round trips, steals, process start-up of a joining worker).
import type { Ctx } from '../harness/measure.js'
import { median } from '../harness/stats.js'
import { errorText } from '../harness/timeout.js'
import { withEmptyCluster } from './cluster.js'
import {
  lowerBoundMs,
  scaled,
  shrunk,
  MAKESPAN_SCENARIOS,
  type MakespanScenario,
} from './p4-scenarios.js'

/** Sleeps `ms / speed`, the speed coming from the worker's environment (a half-speed host). */
const work = async (ms: number): Promise<number> => {
  const speed = Number(process.env.CP_BENCH_SPEED ?? '1')
  await new Promise((resolve) => setTimeout(resolve, ms / speed))
  return ms
}

interface RunResult {
  readonly makespanMs: number
  /** When each late worker registered, from the first submit. Milliseconds. */
  readonly joinedAtMs: Record<string, number>
}

async function runOnce(s: MakespanScenario): Promise<RunResult> {
  return withEmptyCluster(async (cluster) => {
    const start = (w: MakespanScenario['workers'][number]): void => {
      cluster.addWorker({
        name: w.id,
        procs: w.procs,
        env: { CP_BENCH_SPEED: String(w.speed ?? 1) },
      })
    }
    const initial = s.workers.filter((w) => (w.joinAtMs ?? 0) <= 0)
    const later = s.workers
      .filter((w) => (w.joinAtMs ?? 0) > 0)
      .sort((a, b) => a.joinAtMs! - b.joinAtMs!)
    for (const w of initial) start(w)
    await cluster.waitForWorkers(initial.length, 60_000)
    const ex = cluster.executor()
    // Ship `work` to every process before the clock starts, as the Dask anchor does.
    const procs = initial.reduce((a, w) => a + w.procs, 0)
    await Promise.all(Array.from({ length: 2 * procs }, () => ex.submit(work, 0)))
    const t0 = performance.now()
    const futures = s.tasks.map((t) => ex.submit(work, t.durationMs))
    const joinedAtMs: Record<string, number> = {}
    for (const [i, w] of later.entries()) {
      const wait = w.joinAtMs! - (performance.now() - t0)
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait))
      start(w)
      await cluster.waitForWorkers(initial.length + i + 1, 60_000)
      joinedAtMs[w.id] = performance.now() - t0
    }
    await Promise.all(futures)
    const makespanMs = performance.now() - t0
    await ex.shutdown()
    return { makespanMs, joinedAtMs }
  })
}

/**
 * What `setTimeout(ms)` really sleeps here, on average over back-to-back sleeps in this process
 * (Node's timers fire late by up to a millisecond): a sleeping task cannot take less, so the
 * lower bound with these durations is the floor of the path with no scheduling at all.
 */
async function timerFloorMs(ms: number): Promise<number> {
  const n = Math.max(20, Math.min(500, Math.round(1000 / Math.max(ms, 1))))
  const t0 = performance.now()
  for (let i = 0; i < n; i++) await new Promise((resolve) => setTimeout(resolve, ms))
  return (performance.now() - t0) / n
}

/** `s` with each task's duration replaced by what sleeping it really takes here. */
async function timerFloored(s: MakespanScenario): Promise<MakespanScenario> {
  const floor = new Map<number, number>()
  for (const t of s.tasks) if (!floor.has(t.durationMs)) floor.set(t.durationMs, 0)
  for (const ms of floor.keys()) floor.set(ms, await timerFloorMs(ms))
  return { ...s, tasks: s.tasks.map((t) => ({ ...t, durationMs: floor.get(t.durationMs)! })) }
}

/** Makespan / lower bound of every scenario on a fresh LocalCluster per run. */
export async function makespanLocalCluster(ctx: Ctx): Promise<void> {
  const { config } = ctx
  const scale = config.makespanScale
  const fraction = config.makespanTaskFraction
  for (const base of MAKESPAN_SCENARIOS) {
    const s = scaled(shrunk(base, fraction), scale)
    const runs: number[] = []
    const floorRuns: number[] = []
    try {
      const floored = await timerFloored(s)
      for (let r = 0; r < config.makespanRuns; r++) {
        const { makespanMs, joinedAtMs } = await runOnce(s)
        // As for Dask: a late worker's bound counts from when it actually joined.
        const workers = s.workers.map((w) =>
          joinedAtMs[w.id] === undefined ? w : { ...w, joinAtMs: joinedAtMs[w.id] },
        )
        runs.push(makespanMs / lowerBoundMs(workers, s.tasks))
        floorRuns.push(lowerBoundMs(workers, floored.tasks) / lowerBoundMs(workers, s.tasks))
      }
    } catch (error) {
      ctx.results.fail({
        scenario: 'P4',
        system: `clusterpool LocalCluster · ${s.name}`,
        error: errorText(error),
      })
      continue
    }
    const floor = median(floorRuns)
    const notes = [
      `sleeping tasks, durations ×${scale}, a fresh cluster per run`,
      `timer floor ${floor.toFixed(2)}× (the bound with what setTimeout really sleeps here; ` +
        `${(median(runs) / floor).toFixed(2)}× that floor)`,
    ]
    if (fraction < 1) notes.push(`quick mode: ${fraction * 100}% of each scenario's tasks`)
    ctx.results.add({
      scenario: 'P4',
      system: 'clusterpool LocalCluster (measured)',
      family: 'clusterpool',
      method: base.name,
      metric: 'makespan / lower bound',
      n: s.tasks.length,
      unit: '×',
      better: 'lower',
      median: median(runs),
      runs,
      note: notes.join('; '),
    })
  }
}
