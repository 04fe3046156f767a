// What every scenario produces: measurements (median of runs), skips (capped, not available)
// and failures. Anchors and clusterpool share one shape so ratios can be taken mechanically.

export const SCENARIOS = [
  'P1',
  'P2',
  'P3',
  'P4',
  'P5',
  'P6',
  'P7',
  'P8',
  'P9',
  'P10',
  'P11',
] as const
export type ScenarioId = (typeof SCENARIOS)[number]

export type Family = 'clusterpool' | 'anchor'

export interface Measurement {
  readonly scenario: ScenarioId
  /** Who ran it, e.g. `clusterpool ProcessPool(2)`, `Dask LocalCluster 2×1`. */
  readonly system: string
  readonly family: Family
  /** How, e.g. `map`, `map chunksize=100`, `submit-all`, `sequential`. */
  readonly method: string
  /** What, e.g. `round trip`, `throughput`, `speedup`, `makespan / lower bound`. */
  readonly metric: string
  /** Tasks (or items) per run, where it matters. */
  readonly n?: number
  readonly unit: string
  /** Which direction is better; ratios are oriented so that > 1 means clusterpool is better. */
  readonly better: 'higher' | 'lower'
  /** Median over `runs`. */
  readonly median: number
  /** One value per run. */
  readonly runs: readonly number[]
  /** 99th percentile of every sample of every run (round trips only). */
  readonly p99?: number
  readonly note?: string
}

export interface Skip {
  readonly scenario: ScenarioId
  readonly system: string
  readonly method?: string
  readonly n?: number
  readonly reason: string
}

export interface Failure {
  readonly scenario: ScenarioId
  readonly system: string
  readonly error: string
}

/** Collects everything one benchmark run produced. */
export class Results {
  readonly measurements: Measurement[] = []
  readonly skips: Skip[] = []
  readonly failures: Failure[] = []
  readonly notes: string[] = []

  add(m: Measurement): void {
    this.measurements.push(m)
    const extra = m.p99 === undefined ? '' : `, p99 ${fmt(m.p99)}`
    const n = m.n === undefined ? '' : ` N=${m.n}`
    log(
      `${m.scenario} ${m.system} · ${m.method}${n}: ${m.metric} ${fmt(m.median)} ${m.unit}${extra}`,
    )
  }

  skip(s: Skip): void {
    this.skips.push(s)
    const n = s.n === undefined ? '' : ` N=${s.n}`
    log(`${s.scenario} ${s.system}${s.method ? ` · ${s.method}` : ''}${n}: skipped (${s.reason})`)
  }

  fail(f: Failure): void {
    this.failures.push(f)
    log(`${f.scenario} ${f.system}: FAILED ${f.error}`)
  }

  note(text: string): void {
    this.notes.push(text)
    log(`note: ${text}`)
  }
}

/** A number in a few significant digits, for logs and tables. */
export function fmt(x: number): string {
  if (!Number.isFinite(x)) return String(x)
  const a = Math.abs(x)
  if (a >= 1e6) return `${(x / 1e6).toFixed(a >= 1e7 ? 1 : 2)}M`
  if (a >= 1e4) return `${(x / 1e3).toFixed(a >= 1e5 ? 0 : 1)}k`
  if (a >= 100) return x.toFixed(0)
  if (a >= 10) return x.toFixed(1)
  if (a >= 1) return x.toFixed(2)
  return x.toPrecision(2)
}

export function log(line: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}\n`)
}
