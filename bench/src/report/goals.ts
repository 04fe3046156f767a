// The product's targets from the issues, checked against this run's figures. Reported, never
// asserted: a miss is a finding, not a failure of the bench.
import type { Measurement } from '../harness/result.js'
import { fmt } from '../harness/result.js'
import { floorGoals } from './floor-goals.js'

export interface GoalCheck {
  readonly goal: string
  readonly source: string
  readonly measured: string
  /** The same-run figure the goal is a ratio to, described (issue 14's goals). */
  readonly floor?: string
  /** measured / floor, in the goal's terms. */
  readonly ratio?: number
  /** undefined: not measured in this run. */
  readonly met: boolean | undefined
}

const find = (all: readonly Measurement[], f: (m: Measurement) => boolean): Measurement[] =>
  all.filter(f)
const isCluster = (m: Measurement): boolean => m.system.startsWith('clusterpool LocalCluster')

function best(ms: readonly Measurement[]): Measurement | undefined {
  if (ms.length === 0) return undefined
  return ms.reduce((a, b) =>
    (b.better === 'higher' ? b.median > a.median : b.median < a.median) ? b : a,
  )
}

export function checkGoals(all: readonly Measurement[]): GoalCheck[] {
  const out: GoalCheck[] = floorGoals(all)
  const cluster = (scenario: string, metric: string, n?: number): Measurement[] =>
    find(
      all,
      (m) =>
        isCluster(m) &&
        m.scenario === scenario &&
        m.metric === metric &&
        (n === undefined || m.n === n),
    )

  const rt = best(cluster('P1', 'round trip').filter((m) => m.method === 'sequential'))
  out.push({
    goal: 'P1 cluster round trip ≤ 0.4 ms (median)',
    source: 'issue 5',
    measured: rt
      ? `${fmt(rt.median)} ms (${rt.system}; p99 ${fmt(rt.p99 ?? NaN)} ms)`
      : 'not measured',
    met: rt ? rt.median <= 0.4 : undefined,
  })
  out.push({
    goal: 'P1 cluster round trip ≤ 1 ms (first target)',
    source: 'issue 3 §11',
    measured: rt ? `${fmt(rt.median)} ms` : 'not measured',
    met: rt ? rt.median <= 1 : undefined,
  })
  const map100k = find(cluster('P2', 'throughput', 100_000), (m) => m.method.startsWith('map'))
  const bestMap = best(map100k)
  out.push({
    goal: 'P2 LocalCluster 2×1 map of 100k no-ops ≥ 20,000 tasks/s (first target)',
    source: 'issue 3 §11',
    measured: bestMap ? `${fmt(bestMap.median)} tasks/s (${bestMap.method})` : 'not measured',
    met: bestMap ? bestMap.median >= 20_000 : undefined,
  })
  const at100k = best(cluster('P2', 'throughput', 100_000))
  out.push({
    goal: 'P2 cluster throughput ≥ 100k tasks/s at N=100k',
    source: 'issue 5',
    measured: at100k ? `${fmt(at100k.median)} tasks/s (${at100k.method})` : 'not measured',
    met: at100k ? at100k.median >= 100_000 : undefined,
  })
  const at1m = at100k
    ? find(cluster('P2', 'throughput', 1_000_000), (m) => m.method === at100k.method)[0]
    : undefined
  out.push({
    goal: 'P2 cluster throughput at 1M ≥ 80% of that at 100k',
    source: 'issue 5',
    measured:
      at1m && at100k
        ? `${fmt(at1m.median)} tasks/s = ${((at1m.median / at100k.median) * 100).toFixed(0)}%`
        : 'not measured',
    met: at1m && at100k ? at1m.median >= 0.8 * at100k.median : undefined,
  })
  const pp = best(
    find(
      all,
      (m) =>
        m.scenario === 'P2' &&
        m.system.startsWith('clusterpool ProcessPool') &&
        m.n === 100_000 &&
        m.method === 'submit-all',
    ),
  )
  const pis = find(
    all,
    (m) => m.scenario === 'P2' && m.system.startsWith('piscina') && m.n === 100_000,
  )[0]
  out.push({
    goal: 'ProcessPool submit-all throughput ≥ piscina (100k no-ops)',
    source: 'issue 2 §4',
    measured: pp && pis ? `${fmt(pp.median)} vs ${fmt(pis.median)} tasks/s` : 'not measured',
    met: pp && pis ? pp.median >= pis.median : undefined,
  })
  const eff = find(
    all,
    (m) => m.scenario === 'P3' && m.family === 'clusterpool' && m.metric === 'efficiency',
  )
  for (const e of eff) {
    out.push({
      goal: `P3 efficiency ≥ 95% (${e.system})`,
      source: 'issue 5',
      measured: `${fmt(e.median)}%`,
      met: e.median >= 95,
    })
  }
  const mem = find(all, (m) => m.scenario === 'P5' && m.metric === 'RSS per pending task')[0]
  out.push({
    goal: 'P5 ≤ 1 KB per pending task on the coordinator',
    source: 'issue 5',
    measured: mem ? `${fmt(mem.median)} B` : 'not measured',
    met: mem ? mem.median <= 1024 : undefined,
  })
  const p11 = (method: string, metric: string): Measurement | undefined =>
    find(all, (m) => m.scenario === 'P11' && m.method === method && m.metric === metric)[0]
  const heartbeat = p11('steady window', 'heartbeat → pong p99')
  out.push({
    goal: 'P11 heartbeat handling p99 < 100 ms (200 workers, 1M queued)',
    source: 'issue 14',
    measured: heartbeat
      ? `${fmt(heartbeat.median)} ms (N=${fmt(heartbeat.n ?? NaN)})`
      : 'not measured',
    met: heartbeat ? heartbeat.median < 100 : undefined,
  })
  const queued = p11('after submitting', 'RSS per queued task')
  out.push({
    goal: 'P11 coordinator RSS ≤ 1 KB per queued task (200 workers, 1M queued)',
    source: 'issue 14',
    measured: queued ? `${fmt(queued.median)} B (N=${fmt(queued.n ?? NaN)})` : 'not measured',
    met: queued ? queued.median <= 1024 : undefined,
  })
  const p4 = find(all, (m) => m.scenario === 'P4' && m.family === 'clusterpool')
  const dask = find(all, (m) => m.scenario === 'P4' && m.system.startsWith('Dask'))
  for (const system of new Set(p4.map((m) => m.system))) {
    const ours = p4.filter((m) => m.system === system)
    const worst = ours.reduce((a, b) => (b.median > a.median ? b : a))
    out.push({
      goal: `P4 makespan ≤ 1.10 × lower bound in every scenario (${system})`,
      source: 'issue 4',
      measured: `worst ${worst.median.toFixed(2)} (${worst.method})`,
      met: worst.median <= 1.1,
    })
    const beaten = ours.filter((o) => {
      const d = dask.find((x) => x.method === o.method)
      return d !== undefined && o.median < d.median
    })
    out.push({
      goal: `P4 makespan below Dask's in every scenario (${system})`,
      source: 'issue 4',
      measured:
        dask.length === 0 ? 'Dask not measured' : `${beaten.length} of ${ours.length} scenarios`,
      met: dask.length === 0 ? undefined : beaten.length === ours.length,
    })
  }
  if (p4.length === 0) {
    out.push({
      goal: 'P4 makespan ≤ 1.10 × lower bound; below Dask',
      source: 'issue 4',
      measured: 'not measured',
      met: undefined,
    })
  }
  return out
}
