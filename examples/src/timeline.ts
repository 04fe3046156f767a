/** One bar of an ASCII timeline: a task's start and end, relative to the run's start. */
export interface Span {
  label: string
  startMs: number
  endMs: number
}

/** Draws spans as an ASCII chart, like the runtime chart of the original experiment. */
export function timeline(spans: readonly Span[], width = 50): string {
  const t0 = Math.min(...spans.map((s) => s.startMs))
  const t1 = Math.max(...spans.map((s) => s.endMs))
  const scale = width / Math.max(1, t1 - t0)
  const labelWidth = Math.max(...spans.map((s) => s.label.length))
  return spans
    .map((s) => {
      const a = Math.floor((s.startMs - t0) * scale)
      const b = Math.max(a + 1, Math.round((s.endMs - t0) * scale))
      const bar = ' '.repeat(a) + '█'.repeat(b - a) + ' '.repeat(Math.max(0, width - b))
      return `${s.label.padEnd(labelWidth)} |${bar}| ${s.startMs - t0}–${s.endMs - t0} ms`
    })
    .join('\n')
}
