// Measurement loops shared by every system: guarded units, round trips, throughput series with
// a cap on projected run time.
import type { BenchConfig } from './config.js'
import { median, p99 } from './stats.js'
import type { Family, Results, ScenarioId } from './result.js'
import { errorText, withTimeout } from './timeout.js'

export interface Ctx {
  readonly config: BenchConfig
  readonly results: Results
}

/**
 * Runs `body` with a deadline; a failure or timeout is recorded for `system` and swallowed, so
 * the other scenarios continue. Returns whether it succeeded.
 */
export async function guarded(
  ctx: Ctx,
  scenario: ScenarioId,
  system: string,
  timeoutMs: number,
  body: () => Promise<void>,
): Promise<boolean> {
  try {
    await withTimeout(body(), timeoutMs, `${scenario} ${system}`)
    return true
  } catch (error) {
    ctx.results.fail({ scenario, system, error: errorText(error) })
    return false
  }
}

export function collectGarbage(): void {
  const gc = (globalThis as { gc?: () => void }).gc
  if (gc) gc()
}

/**
 * `runs` runs of `count` sequential calls (after a warm-up of count/5): the figure is the median
 * of the runs' medians, p99 over every call. Milliseconds.
 */
export async function measureRoundTrip(
  runs: number,
  count: number,
  call: (i: number) => Promise<unknown>,
): Promise<{ runs: number[]; p99: number }> {
  for (let i = 0; i < Math.max(10, Math.floor(count / 5)); i++) await call(i)
  const medians: number[] = []
  const all: number[] = []
  for (let r = 0; r < runs; r++) {
    collectGarbage()
    const samples = new Array<number>(count)
    for (let i = 0; i < count; i++) {
      const t0 = performance.now()
      await call(i)
      samples[i] = performance.now() - t0
    }
    medians.push(median(samples))
    all.push(...samples)
  }
  return { runs: medians, p99: p99(all) }
}

/**
 * P1 for `system`: `measureRoundTrip` with the configured runs and calls, recorded as the median
 * of the runs' medians with the p99 of every call.
 */
export async function addRoundTrip(
  ctx: Ctx,
  system: string,
  family: Family,
  call: (i: number) => Promise<unknown>,
): Promise<void> {
  const { config, results } = ctx
  const rt = await measureRoundTrip(config.runs, config.roundTrips, call)
  results.add({
    scenario: 'P1',
    system,
    family,
    method: 'sequential',
    metric: 'round trip',
    n: config.roundTrips,
    unit: 'ms',
    better: 'lower',
    median: median(rt.runs),
    runs: rt.runs,
    p99: rt.p99,
  })
}

/**
 * P1's first round trips of fresh starts: `perRun` holds each run's samples, in order. The figure
 * is the median of the runs' medians; p99 over every sample.
 */
export function addFreshRoundTrips(
  ctx: Ctx,
  record: { system: string; family: Family; method: string; note: string },
  perRun: readonly (readonly number[])[],
): void {
  const medians = perRun.map((samples) => median(samples))
  ctx.results.add({
    scenario: 'P1',
    ...record,
    metric: 'round trip',
    n: perRun[0]?.length ?? 0,
    unit: 'ms',
    better: 'lower',
    median: median(medians),
    runs: medians,
    p99: p99(perRun.flat()),
  })
}

export interface SeriesSpec {
  readonly scenario: ScenarioId
  readonly system: string
  readonly family: Family
  readonly method: string
  readonly ns: readonly number[]
  /** Does `n` tasks; throws if a result is wrong. */
  readonly run: (n: number) => Promise<void>
  readonly note?: string
}

/**
 * Throughput at each N (ascending): `runs` runs each, tasks/s = N / elapsed. A size whose time
 * per run, projected from the previous size, exceeds `capSeconds` is skipped as capped; a run
 * that fails ends the series for that system.
 */
export async function throughputSeries(ctx: Ctx, spec: SeriesSpec): Promise<void> {
  const { config, results } = ctx
  let rate: number | undefined
  try {
    await withTimeout(
      spec.run(Math.min(spec.ns[0] ?? 1000, 1000)),
      60_000,
      `${spec.system} warm-up`,
    )
  } catch (error) {
    results.fail({
      scenario: spec.scenario,
      system: `${spec.system} · ${spec.method}`,
      error: errorText(error),
    })
    return
  }
  for (const n of spec.ns) {
    const projected = rate === undefined ? undefined : n / rate
    if (projected !== undefined && projected > config.capSeconds) {
      results.skip({
        scenario: spec.scenario,
        system: spec.system,
        method: spec.method,
        n,
        reason: `capped: ~${Math.round(projected)} s per run projected, cap ${config.capSeconds} s`,
      })
      continue
    }
    const timeoutMs = Math.max(60_000, (projected ?? 60) * 5000)
    const rates: number[] = []
    try {
      for (let r = 0; r < config.runs; r++) {
        collectGarbage()
        const t0 = performance.now()
        await withTimeout(spec.run(n), timeoutMs, `${spec.system} ${spec.method} N=${n}`)
        rates.push(n / ((performance.now() - t0) / 1000))
      }
    } catch (error) {
      results.fail({
        scenario: spec.scenario,
        system: `${spec.system} · ${spec.method} N=${n}`,
        error: errorText(error),
      })
      return
    }
    rate = median(rates)
    results.add({
      scenario: spec.scenario,
      system: spec.system,
      family: spec.family,
      method: spec.method,
      metric: 'throughput',
      n,
      unit: 'tasks/s',
      better: 'higher',
      median: rate,
      runs: rates,
      ...(spec.note === undefined ? {} : { note: spec.note }),
    })
  }
}
