import { InvalidOptionError } from '@clusterpool/protocol'

/** How the dashboard aggregates what it sends to browsers. */
export interface DashboardOptions {
  /** Shortest time between two updates to the browsers. Milliseconds; default 500 (2 updates/s). */
  updateIntervalMs?: number
  /** Time between two points of the charts (throughput, queue length, occupancy). Milliseconds; default 1000. */
  sampleIntervalMs?: number
  /** Points of chart history kept (at `sampleIntervalMs` apart: 300 = 5 minutes). Default 300. */
  historyPoints?: number
  /** Task-stream bars sent per update at most; beyond it the update holds a uniform sample. Default 500. */
  streamCap?: number
  /** Recent errors kept and shown, newest first. Default 20. */
  errorsKept?: number
  /** Functions listed in the progress panel at most (the busiest first). Default 50. */
  functionsShown?: number
  /** An error's stack is cut to this many characters, its message to a quarter of it. Default 4000. */
  maxStackChars?: number
  /** Browsers connected at once at most; more get 503. Default 32. */
  maxViewers?: number
}

export type ResolvedDashboardOptions = Required<DashboardOptions>

export const DASHBOARD_DEFAULTS: Readonly<ResolvedDashboardOptions> = Object.freeze({
  updateIntervalMs: 500,
  sampleIntervalMs: 1000,
  historyPoints: 300,
  streamCap: 500,
  errorsKept: 20,
  functionsShown: 50,
  maxStackChars: 4000,
  maxViewers: 32,
})

/** Validates once, naming the option; applies the defaults. */
export function resolveDashboardOptions(options: DashboardOptions = {}): ResolvedDashboardOptions {
  const o: ResolvedDashboardOptions = { ...DASHBOARD_DEFAULTS }
  for (const key of Object.keys(DASHBOARD_DEFAULTS) as (keyof ResolvedDashboardOptions)[]) {
    const value = options[key]
    if (value === undefined) continue
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
      throw new InvalidOptionError(
        `dashboard options.${key} must be a positive integer, got ${String(value)}`,
      )
    }
    o[key] = value
  }
  if (o.sampleIntervalMs < o.updateIntervalMs) {
    throw new InvalidOptionError(
      `dashboard options.sampleIntervalMs (${o.sampleIntervalMs}) must be at least options.updateIntervalMs (${o.updateIntervalMs})`,
    )
  }
  return o
}
