// Command-line options and the sizes each mode uses.
import { parseArgs } from 'node:util'
import { fileURLToPath } from 'node:url'

import { SCENARIOS, type ScenarioId } from './result.js'

/** Groups of systems, for `--systems`. */
export const SYSTEMS = ['clusterpool', 'cluster', 'piscina', 'python', 'dask', 'floor'] as const
export type SystemId = (typeof SYSTEMS)[number]

export interface BenchConfig {
  /** `--quick`: small sizes, finishes in a few minutes (P1, P2 and P4 took under 3 on a loaded 2-core machine). */
  readonly quick: boolean
  /** `--only P1,P2`: scenarios to run. Default all. */
  readonly only: ReadonlySet<ScenarioId>
  /** `--systems dask,floor`: which systems run. Default all. */
  readonly systems: ReadonlySet<SystemId>
  /** Runs per figure (`--runs`, at least 3). */
  readonly runs: number
  /** P2 sizes. */
  readonly ns: readonly number[]
  /** Sequential round trips per run (fast systems / Dask). */
  readonly roundTrips: number
  readonly daskRoundTrips: number
  /** P1 on a fresh cluster: the first round trips after start and connect, with no warm-up. */
  readonly firstRoundTrips: number
  /** P1 on a fresh cluster: clusters started (one per run), the median of their medians reported. */
  readonly freshClusters: number
  /** Dask throughput sizes (capped: Dask runs ~600 tasks/s). */
  readonly daskNs: readonly number[]
  /** A size whose projected time per run exceeds this is skipped as capped. Seconds. */
  readonly capSeconds: number
  /** P3: tasks per run, and target duration of one task. Milliseconds. */
  readonly cpuTasks: number
  readonly cpuTaskMs: number
  /** P4: durations are multiplied by this for the real (Dask) runs; Dask runs per scenario. */
  readonly makespanScale: number
  readonly makespanRuns: number
  /** P4 (Dask): fraction of each scenario's tasks that run (quick mode shrinks them). */
  readonly makespanTaskFraction: number
  /** P5: pending tasks on the coordinator, and items of the client's map. */
  readonly memoryPending: number
  readonly memoryMapItems: number
  /** P11: simulated workers, tasks queued on the coordinator, and the steady window. Milliseconds for the window. */
  readonly p11Workers: number
  readonly p11Tasks: number
  readonly p11WindowMs: number
  /** Where RESULTS.md, results.json and throughput.svg go. */
  readonly outDir: string
  /** Skip installing python3-distributed with apt-get (`--no-install`). */
  readonly noInstall: boolean
  /** The options this config was parsed from, for helper processes that measure the same way. */
  readonly argv: readonly string[]
}

const BENCH_DIR = fileURLToPath(new URL('../..', import.meta.url))

export function benchDir(): string {
  return BENCH_DIR
}

export const USAGE = `Usage: npm run bench [-- --quick] [--only P1,P2,...] [--systems LIST] [--runs 3] [--cap-seconds S] [--out DIR] [--no-install]

  --quick         small sizes, a few minutes (results go to bench/tmp/ unless --out)
  --only LIST     comma-separated subset of ${SCENARIOS.join(',')}
  --systems LIST  comma-separated subset of ${SYSTEMS.join(',')}: clusterpool = local Thread/ProcessPool,
                  cluster = LocalCluster, python = concurrent.futures, floor = raw ws+msgpackr echo
                  (P1, P2) and plain Node processes (P3)
  --runs N        runs per figure, median reported (default 3, minimum 3)
  --cap-seconds S skip a throughput size whose projected run time exceeds S (default 60, quick 3)
  --out DIR       output directory (default bench/ for a full run, bench/tmp/ for --quick/--only/--systems)
  --no-install    do not apt-get install python3-distributed when it is missing`

export function parseConfig(argv: readonly string[]): BenchConfig {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      quick: { type: 'boolean', default: false },
      only: { type: 'string' },
      systems: { type: 'string' },
      runs: { type: 'string' },
      'cap-seconds': { type: 'string' },
      out: { type: 'string' },
      'no-install': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  })
  if (values.help) {
    console.log(USAGE)
    process.exit(0)
  }
  const quick = values.quick
  const only = parseList('--only', values.only, SCENARIOS, (x) => x.toUpperCase())
  const systems = parseList('--systems', values.systems, SYSTEMS, (x) => x.toLowerCase())
  const runs = values.runs === undefined ? 3 : Number(values.runs)
  if (!Number.isInteger(runs) || runs < 3)
    throw new Error('--runs must be an integer of at least 3')
  const capSeconds =
    values['cap-seconds'] === undefined ? (quick ? 3 : 60) : Number(values['cap-seconds'])
  if (!(capSeconds > 0)) throw new Error('--cap-seconds must be a positive number of seconds')
  const partial = quick || values.only !== undefined || values.systems !== undefined
  return {
    quick,
    only,
    systems,
    runs,
    ns: quick ? [1_000, 10_000] : [10_000, 100_000, 1_000_000],
    roundTrips: quick ? 500 : 2000,
    daskRoundTrips: quick ? 50 : 200,
    firstRoundTrips: 300,
    freshClusters: Math.max(runs, quick ? 3 : 5),
    daskNs: quick ? [1_000] : [10_000, 20_000],
    capSeconds,
    cpuTasks: quick ? 4 : 8,
    cpuTaskMs: quick ? 100 : 250,
    makespanScale: quick ? 0.5 : 1,
    makespanRuns: quick ? 1 : 3,
    makespanTaskFraction: quick ? 0.25 : 1,
    memoryPending: quick ? 50_000 : 1_000_000,
    memoryMapItems: quick ? 50_000 : 1_000_000,
    p11Workers: quick ? 50 : 200,
    p11Tasks: quick ? 20_000 : 1_000_000,
    p11WindowMs: quick ? 2_000 : 15_000,
    outDir: values.out ?? (partial ? `${BENCH_DIR}tmp` : BENCH_DIR.replace(/\/$/, '')),
    noInstall: values['no-install'],
    argv: [...argv],
  }
}

function parseList<T extends string>(
  flag: string,
  value: string | undefined,
  all: readonly T[],
  normalize: (x: string) => string,
): Set<T> {
  if (value === undefined) return new Set(all)
  const out = new Set<T>()
  for (const part of value.split(',')) {
    const id = normalize(part.trim())
    if (id === '') continue
    if (!(all as readonly string[]).includes(id))
      throw new Error(`${flag}: unknown "${part}" (expected some of ${all.join(',')})`)
    out.add(id as T)
  }
  return out
}
