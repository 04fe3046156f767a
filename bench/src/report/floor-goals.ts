// Issue 14's table: the figures a user of LocalCluster sees, each as a ratio to a floor measured
// in the same run (so a busy or slow machine moves both), with the client in its own process.
import { PATH_FLOOR } from '../anchors/path-floor.js'
import { FLOOR_SINGLE } from '../anchors/wire-floor.js'
import { PISCINA } from '../anchors/piscina.js'
import { fmt, type Measurement } from '../harness/result.js'
import { shortN } from './ratios.js'
import type { GoalCheck } from './goals.js'

export const FLOOR_GOALS_SOURCE = 'issue 14'
const SOURCE = FLOOR_GOALS_SOURCE
/** The system whose figures count: see scenarios/own-client.ts. */
const isOwnClient = (m: Measurement): boolean => m.system.endsWith('(client in its own process)')
/** The P2 size the throughput targets are set at. */
const TARGET_N = 100_000

const notMeasured = (goal: string, what: string): GoalCheck => ({
  goal,
  source: SOURCE,
  measured: `not measured (${what})`,
  met: undefined,
})

/** A round trip (P1) against the wire floor's: ours / floor ≤ `max`. */
function roundTripGoal(
  all: readonly Measurement[],
  goal: string,
  method: (m: string) => boolean,
  max: number,
): GoalCheck {
  const floor = all.find((m) => m.scenario === 'P1' && m.system === FLOOR_SINGLE)
  const ours = all.find((m) => m.scenario === 'P1' && isOwnClient(m) && method(m.method))
  if (!floor || !ours) return notMeasured(goal, !floor ? 'no wire floor' : 'no own-process client')
  const ratio = ours.median / floor.median
  // The path floor measured the same way: warm against warm, fresh against fresh.
  const path = all.find((m) => m.scenario === 'P1' && m.system === PATH_FLOOR && method(m.method))
  const onPath = path
    ? `; the same hops with no task logic (${PATH_FLOOR}, ${path.method}): ${fmt(path.median)} ms, ours ${(ours.median / path.median).toFixed(2)}× it`
    : ''
  return {
    goal,
    source: SOURCE,
    measured: `${fmt(ours.median)} ms (p99 ${fmt(ours.p99 ?? NaN)}) / ${fmt(floor.median)} ms = ${ratio.toFixed(2)}×`,
    floor: `${FLOOR_SINGLE}: ${fmt(floor.median)} ms${onPath}`,
    ratio,
    met: ratio <= max,
  }
}

/**
 * A P2 method of ours against piscina's submit-all at N=100k: ours / piscina ≥ `min`. Quick runs
 * stop below 100k; they are compared at the largest N both measured, and say so.
 */
function throughputGoal(
  all: readonly Measurement[],
  goal: string,
  method: string,
  min: number,
): GoalCheck {
  const pis = all.filter((m) => m.scenario === 'P2' && m.system === PISCINA)
  const ours = all.filter((m) => m.scenario === 'P2' && isOwnClient(m) && m.method === method)
  const common = ours.map((m) => m.n ?? 0).filter((n) => pis.some((p) => p.n === n))
  if (common.length === 0) return notMeasured(goal, 'no piscina or no own-process client')
  const n = common.includes(TARGET_N) ? TARGET_N : Math.max(...common)
  const a = ours.find((m) => m.n === n)!
  const p = pis.find((m) => m.n === n)!
  const ratio = a.median / p.median
  const at = n === TARGET_N ? '' : ` (at N=${shortN(n)}, not ${shortN(TARGET_N)})`
  const path = all.find((m) => m.scenario === 'P2' && m.system === PATH_FLOOR && m.n === n)
  const onPath = path
    ? `; the same hops with no task logic, one message per task (${PATH_FLOOR}): ${fmt(path.median)} tasks/s, ours ${(a.median / path.median).toFixed(2)}× it`
    : ''
  return {
    goal,
    source: SOURCE,
    measured: `${fmt(a.median)} / ${fmt(p.median)} tasks/s = ${ratio.toFixed(2)}×${at}`,
    floor: `${PISCINA} submit-all N=${shortN(n)}: ${fmt(p.median)} tasks/s${onPath}`,
    ratio,
    met: n === TARGET_N ? ratio >= min : undefined,
  }
}

/** A P4 scenario on the real LocalCluster: makespan / lower bound ≤ `max`. */
function makespanGoal(
  all: readonly Measurement[],
  goal: string,
  scenario: string,
  max: number,
): GoalCheck {
  const m = all.find(
    (x) => x.scenario === 'P4' && x.system.includes('LocalCluster') && x.method === scenario,
  )
  if (!m) return notMeasured(goal, 'P4 not run on LocalCluster')
  return {
    goal,
    source: SOURCE,
    measured: `${m.median.toFixed(2)} (N=${shortN(m.n)}${m.note?.includes('quick') ? ', quick: shorter and fewer tasks' : ''})`,
    floor: `the lower bound: total work / slots${timerFloor(m.note)}`,
    ratio: m.median,
    met: m.median <= max,
  }
}

/** The timer floor from a P4 note (`timer floor 1.10× (...; 1.15× that floor)`), as words for the floor column. */
function timerFloor(note: string | undefined): string {
  const m = note?.match(/timer floor ([\d.]+)×.*?; ([\d.]+)× that floor/)
  return m ? `; sleeping alone takes ${m[1]}× it here (${m[2]}× that floor)` : ''
}

/** Each P2 method of the own-process client at 1M against 100k: ≥ 0.8. */
function scalingGoal(all: readonly Measurement[]): GoalCheck {
  const goal = 'P2 at 1M ≥ 0.8 × P2 at 100k (every method)'
  const ours = all.filter((m) => m.scenario === 'P2' && isOwnClient(m))
  const pairs = [...new Set(ours.map((m) => m.method))].flatMap((method) => {
    const big = ours.find((m) => m.method === method && m.n === 1_000_000)
    const base = ours.find((m) => m.method === method && m.n === TARGET_N)
    return big && base ? [{ method, ratio: big.median / base.median }] : []
  })
  if (pairs.length === 0) return notMeasured(goal, 'N=1M and 100k not both run')
  const worst = Math.min(...pairs.map((p) => p.ratio))
  return {
    goal,
    source: SOURCE,
    measured: pairs.map((p) => `${p.method} ${p.ratio.toFixed(2)}`).join('; '),
    floor: 'the same system at N=100k',
    ratio: worst,
    met: worst >= 0.8,
  }
}

export function floorGoals(all: readonly Measurement[]): GoalCheck[] {
  return [
    roundTripGoal(
      all,
      'warm round trip ≤ 3 × the ws+msgpackr echo (the path has two such hops)',
      (m) => m === 'sequential',
      3,
    ),
    roundTripGoal(
      all,
      'first 300 round trips of a fresh cluster (median) ≤ 5 × the echo',
      (m) => m.startsWith('first '),
      5,
    ),
    throughputGoal(
      all,
      '100k no-ops, submit-all ≥ 5 × piscina (2 threads, submit-all)',
      'submit-all',
      5,
    ),
    throughputGoal(all, '100k no-ops, `map` ≥ 5 × piscina (2 threads, submit-all)', 'map', 5),
    makespanGoal(
      all,
      '2,000 × 2 ms on 2 slots (LocalCluster 2×1): makespan / lower bound ≤ 1.25',
      '2 ms on 2 slots',
      1.25,
    ),
    makespanGoal(
      all,
      '"long then short" on the real cluster: makespan / lower bound ≤ 1.10',
      'long then short',
      1.1,
    ),
    scalingGoal(all),
  ]
}
