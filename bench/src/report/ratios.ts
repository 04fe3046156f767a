// Ratios of clusterpool's figures to each anchor's, measured in the same run. Oriented so that
// > 1 means clusterpool is better (faster, more throughput, less memory, shorter makespan).
import type { Measurement } from '../harness/result.js'

export interface Ratio {
  readonly anchor: string
  readonly value: number
  /** The anchor figure compared against. */
  readonly against: Measurement
  /** The anchor was not measured at this N; compared at the nearest N it ran. */
  readonly otherN: boolean
  /** The anchor has no method of this kind (batched / per task); compared with its best. */
  readonly otherKind: boolean
}

export function orient(ours: Measurement, anchor: Measurement): number {
  return ours.better === 'higher' ? ours.median / anchor.median : anchor.median / ours.median
}

/** Anchor systems that have a figure comparable to `ours` (same scenario and metric). */
export function anchorSystems(
  all: readonly Measurement[],
  scenario: string,
  metric: string,
): string[] {
  const names: string[] = []
  for (const m of all) {
    if (
      m.family === 'anchor' &&
      m.scenario === scenario &&
      m.metric === metric &&
      !names.includes(m.system)
    )
      names.push(m.system)
  }
  return names
}

/** P2 methods come in two kinds, compared only with their own kind where the anchor has it. */
export type MethodClass = 'batched' | 'per-task'

export function methodClass(m: Measurement): MethodClass {
  const chunk = /chunksize=(\d+)/.exec(m.method)
  if (chunk && Number(chunk[1]) > 1) return 'batched'
  return /items\/frame/.test(m.system) ? 'batched' : 'per-task'
}

/**
 * The best comparable figure of `anchor` for `ours`: in P1 the anchor's of the same start (fresh
 * or warm) if it has one, else any; in P2 the
 * anchor's best method of the same kind (batched or per task; its best of any kind if it has no
 * method of that kind); elsewhere the same method. The same N if measured, else the nearest N
 * (log scale).
 */
export function ratioTo(
  all: readonly Measurement[],
  ours: Measurement,
  anchor: string,
): Ratio | undefined {
  let candidates = all.filter(
    (m) =>
      m.system === anchor &&
      m.scenario === ours.scenario &&
      m.metric === ours.metric &&
      (ours.scenario === 'P2' || ours.scenario === 'P1' || m.method === ours.method),
  )
  let otherKind = false
  if (ours.scenario === 'P1') {
    // A fresh start's first round trips against the anchor's fresh start, where it has one.
    const fresh = (m: Measurement): boolean => m.method.startsWith('first ')
    const sameKind = candidates.filter((m) => fresh(m) === fresh(ours))
    if (sameKind.length > 0) candidates = sameKind
  }
  if (ours.scenario === 'P2') {
    const sameKind = candidates.filter((m) => methodClass(m) === methodClass(ours))
    otherKind = sameKind.length === 0
    if (!otherKind) candidates = sameKind
  }
  if (candidates.length === 0) return undefined
  const sameN = candidates.filter((m) => m.n === ours.n || ours.scenario === 'P1')
  const pool =
    sameN.length > 0
      ? sameN
      : (() => {
          const dist = (m: Measurement): number => Math.abs(Math.log((m.n ?? 1) / (ours.n ?? 1)))
          const nearest = Math.min(...candidates.map(dist))
          return candidates.filter((m) => dist(m) === nearest)
        })()
  const best = pool.reduce((a, b) => (orient(ours, b) < orient(ours, a) ? b : a))
  return { anchor, value: orient(ours, best), against: best, otherN: sameN.length === 0, otherKind }
}

export function formatRatio(r: Ratio | undefined): string {
  if (r === undefined) return '—'
  const v =
    r.value >= 10 ? r.value.toFixed(0) : r.value >= 1 ? r.value.toFixed(2) : r.value.toFixed(3)
  const marks = [r.otherN ? `at N=${shortN(r.against.n)}` : '', r.otherKind ? r.against.method : '']
  const extra = marks.filter((x) => x !== '').join(', ')
  return `${v}×${extra ? ` (${extra})` : ''}`
}

export function shortN(n: number | undefined): string {
  if (n === undefined) return ''
  if (n >= 1e6 && n % 1e6 === 0) return `${n / 1e6}M`
  if (n >= 1e3 && n % 1e3 === 0) return `${n / 1e3}k`
  return String(n)
}
