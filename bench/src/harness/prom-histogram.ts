// A Prometheus histogram read from a /metrics page: its cumulative buckets, the difference of
// two scrapes (a measuring window), and a quantile interpolated inside a bucket as Prometheus's
// `histogram_quantile` does.

/** Cumulative counts per upper bound (`le`), ascending; the last bound is +Inf. */
export type Buckets = ReadonlyMap<number, number>

/**
 * The buckets of histogram `name` in a text-format /metrics page, summed over every label set
 * (each `input` of the scheduler-step histogram, for example).
 */
export function parseBuckets(page: string, name: string): Buckets {
  const out = new Map<number, number>()
  const prefix = `${name}_bucket{`
  for (const line of page.split('\n')) {
    if (!line.startsWith(prefix)) continue
    const le = /le="([^"]+)"/.exec(line)?.[1]
    const value = Number(line.slice(line.lastIndexOf(' ') + 1))
    if (le === undefined || !Number.isFinite(value)) continue
    const bound = le === '+Inf' ? Number.POSITIVE_INFINITY : Number(le)
    out.set(bound, (out.get(bound) ?? 0) + value)
  }
  return new Map([...out].sort((a, b) => a[0] - b[0]))
}

/** What was observed between scrape `before` and scrape `after`. */
export function bucketsBetween(before: Buckets, after: Buckets): Buckets {
  const out = new Map<number, number>()
  for (const [le, n] of after) out.set(le, n - (before.get(le) ?? 0))
  return out
}

/** Observations in `buckets`. */
export function bucketCount(buckets: Buckets): number {
  let last = 0
  for (const n of buckets.values()) last = n
  return last
}

/**
 * The q-quantile (0..1), linear inside the bucket it falls in; the largest finite bound when it
 * falls in +Inf; NaN with no observations.
 */
export function bucketQuantile(buckets: Buckets, q: number): number {
  const total = bucketCount(buckets)
  if (total <= 0) return Number.NaN
  const rank = q * total
  let lower = 0
  let below = 0
  for (const [le, n] of buckets) {
    if (n >= rank) {
      if (!Number.isFinite(le)) return lower
      const inside = n - below
      return inside <= 0 ? le : lower + ((le - lower) * (rank - below)) / inside
    }
    if (Number.isFinite(le)) lower = le
    below = n
  }
  return lower
}
