// P4, makespan: the scheduling scenarios of the scheduler issue, their lower bound, and the
// plain round-robin baseline computed analytically. Shapes match the coordinator's simulator
// (`SimWorker`, `SimTask`), so the same definitions drive the simulation, the real cluster
// and Dask.

export interface ScenarioWorker {
  readonly id: string
  readonly procs: number
  /** Work done per millisecond relative to a task's `durationMs`. Default 1. */
  readonly speed?: number
  /** Joins at this time after the first submit. Milliseconds; default 0. */
  readonly joinAtMs?: number
}

export interface ScenarioTask {
  readonly key: string
  /** Compute time at speed 1. Milliseconds. */
  readonly durationMs: number
}

export interface MakespanScenario {
  readonly name: string
  readonly description: string
  readonly workers: readonly ScenarioWorker[]
  /** In submission order; all submitted at time 0. */
  readonly tasks: readonly ScenarioTask[]
}

function tasks(prefix: string, durations: readonly number[]): ScenarioTask[] {
  return durations.map((durationMs, i) => ({ key: `${prefix}-${i}`, durationMs }))
}

const repeat = (n: number, ms: number): number[] => Array.from({ length: n }, () => ms)

/** The seed's power_calc values: a task sleeps x/2 s (here scaled by 1/10). */
const POWER_CALC = [1, 4, 3, 5, 6, 3, 7, 5, 8, 10]

/** Two workers of one proc each: LocalCluster 2×1. */
const TWO_SINGLE: readonly ScenarioWorker[] = [
  { id: 'a', procs: 1 },
  { id: 'b', procs: 1 },
]

export const MAKESPAN_SCENARIOS: readonly MakespanScenario[] = [
  {
    name: 'uniform tiny',
    description: '2,000 tasks of 1 ms on 2 workers × 1 proc',
    workers: TWO_SINGLE,
    tasks: tasks('tiny', repeat(2000, 1)),
  },
  {
    // Issue 14: short tasks on the real cluster, where every task's round trip between the
    // coordinator and a worker counts against 2 ms of work unless the next one is already there.
    name: '2 ms on 2 slots',
    description: '2,000 tasks of 2 ms on 2 workers × 1 proc',
    workers: TWO_SINGLE,
    tasks: tasks('two', repeat(2000, 2)),
  },
  {
    name: 'heterogeneous',
    description: "the seed's power_calc durations (x·50 ms) ×4 on 2 workers × 2 procs",
    workers: [
      { id: 'a', procs: 2 },
      { id: 'b', procs: 2 },
    ],
    tasks: tasks(
      'power',
      [...POWER_CALC, ...POWER_CALC, ...POWER_CALC, ...POWER_CALC].map((x) => x * 50),
    ),
  },
  {
    name: 'long then short',
    description: '3 tasks of 600 ms, then 300 of 5 ms, on 2 workers × 1 proc',
    workers: TWO_SINGLE,
    tasks: [...tasks('long', repeat(3, 600)), ...tasks('short', repeat(300, 5))],
  },
  {
    name: 'worker joins',
    description: '200 tasks of 20 ms; worker b (1 proc) joins at 500 ms',
    workers: [
      { id: 'a', procs: 1 },
      { id: 'b', procs: 1, joinAtMs: 500 },
    ],
    tasks: tasks('join', repeat(200, 20)),
  },
  {
    name: 'slow worker',
    description: '200 tasks of 20 ms on 2 workers × 1 proc, b at half speed',
    workers: [
      { id: 'a', procs: 1 },
      { id: 'b', procs: 1, speed: 0.5 },
    ],
    tasks: tasks('slow', repeat(200, 20)),
  },
  {
    name: '1 + 3 procs',
    description: '400 tasks of 10 ms on a 1-proc worker and a 3-proc worker',
    workers: [
      { id: 'a', procs: 1 },
      { id: 'b', procs: 3 },
    ],
    tasks: tasks('procs', repeat(400, 10)),
  },
]

/** Durations and join times multiplied by `scale`. */
export function scaled(s: MakespanScenario, scale: number): MakespanScenario {
  return {
    ...s,
    workers: s.workers.map((w) =>
      w.joinAtMs === undefined ? w : { ...w, joinAtMs: w.joinAtMs * scale },
    ),
    tasks: s.tasks.map((t) => ({ ...t, durationMs: t.durationMs * scale })),
  }
}

/**
 * The first ⌈fraction × count⌉ tasks of each kind (key prefix), in their order: the same shape
 * with fewer tasks, for quick runs.
 */
export function shrunk(s: MakespanScenario, fraction: number): MakespanScenario {
  if (fraction >= 1) return s
  const counts = new Map<string, number>()
  for (const t of s.tasks) counts.set(prefix(t.key), (counts.get(prefix(t.key)) ?? 0) + 1)
  const kept = new Map<string, number>()
  const tasks = s.tasks.filter((t) => {
    const p = prefix(t.key)
    const k = kept.get(p) ?? 0
    if (k >= Math.ceil(counts.get(p)! * fraction)) return false
    kept.set(p, k + 1)
    return true
  })
  return { ...s, tasks }
}

const prefix = (key: string): string => key.slice(0, key.lastIndexOf('-'))

/**
 * max(total work / capacity, longest task / fastest speed), where capacity counts each worker's
 * procs × speed from the time it joins: the earliest time by which all work could be done.
 */
export function lowerBoundMs(
  workers: readonly ScenarioWorker[],
  work: readonly ScenarioTask[],
): number {
  const total = work.reduce((a, t) => a + t.durationMs, 0)
  const longest = work.reduce((a, t) => Math.max(a, t.durationMs), 0)
  const fastest = workers.reduce((a, w) => Math.max(a, w.speed ?? 1), 0)
  // Walk the join times: capacity is piecewise constant between them.
  const joins = [...workers].sort((a, b) => (a.joinAtMs ?? 0) - (b.joinAtMs ?? 0))
  let t = 0
  let capacity = 0
  let remaining = total
  for (let i = 0; i < joins.length; i++) {
    const w = joins[i]!
    const at = Math.max(0, w.joinAtMs ?? 0)
    if (capacity > 0 && remaining > capacity * (at - t)) {
      remaining -= capacity * (at - t)
    } else if (capacity > 0) {
      return Math.max(t + remaining / capacity, longest / fastest)
    }
    t = Math.max(t, at)
    capacity += w.procs * (w.speed ?? 1)
  }
  return Math.max(t + remaining / capacity, longest / fastest)
}

/**
 * Plain round-robin: task i goes to worker i mod W among the workers present at submit time;
 * each worker runs its list in order on its procs. Returns the makespan in milliseconds.
 */
export function roundRobinMakespanMs(s: MakespanScenario): number {
  const present = s.workers.filter((w) => (w.joinAtMs ?? 0) <= 0)
  const lists: number[][] = present.map(() => [])
  s.tasks.forEach((t, i) => lists[i % present.length]!.push(t.durationMs))
  let makespan = 0
  present.forEach((w, k) => {
    const free = new Array<number>(w.procs).fill(0)
    for (const d of lists[k]!) {
      let slot = 0
      for (let j = 1; j < free.length; j++) if (free[j]! < free[slot]!) slot = j
      free[slot] = free[slot]! + d / (w.speed ?? 1)
    }
    makespan = Math.max(makespan, ...free)
  })
  return makespan
}
