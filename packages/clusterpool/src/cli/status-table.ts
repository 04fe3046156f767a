import type { ClusterStatus } from '@clusterpool/coordinator'

function mib(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(0)} MiB`
}

/** The cluster summary as terminal text: workers, task counts, throughput. */
export function formatStatus(s: ClusterStatus): string {
  const lines: string[] = []
  lines.push(
    `clusterpool ${s.coordinator.version}  up ${s.coordinator.uptimeSeconds}s  ${s.workersTotal} workers  ` +
      `${s.workers.reduce((n, w) => n + w.procs, 0)} procs  ${s.coordinator.clients} clients  ${s.tasksPerSecond.toFixed(0)} tasks/s`,
  )
  const t = s.tasks
  lines.push(
    `tasks: ${t.waiting} waiting  ${t.queued} queued${t.noWorker > 0 ? ` (${t.noWorker} that no connected worker can run)` : ''}  ${t.processing} processing  ${t.memory} in memory  ${t.erred} erred  ` +
      `(submitted ${s.totals.submitted}, finished ${s.totals.finished}, erred ${s.totals.erred}, cancelled ${s.totals.cancelled})`,
  )
  const header = [
    'worker',
    'host',
    'procs',
    'running',
    'queued',
    'done',
    'failed',
    'cpu',
    'rss',
    'managed',
    'unmanaged',
    'spilled',
    'limit',
    'heartbeat',
    'state',
  ]
  const rows = s.workers.map((w) => [
    w.name,
    w.host,
    String(w.procs),
    String(w.running),
    String(w.queued),
    String(w.done),
    String(w.failed),
    `${(w.cpu * 100).toFixed(0)}%`,
    mib(w.memoryRss),
    w.memory === null ? '-' : mib(w.memory.managedBytes),
    w.memory === null ? '-' : mib(w.memory.unmanagedBytes),
    w.memory === null
      ? '-'
      : `${mib(w.memory.spilledBytes)}${w.memory.spilledCount > 0 ? ` (${w.memory.spilledCount})` : ''}`,
    mib(w.memory?.limitBytes ?? w.memoryBytes),
    `${(w.lastHeartbeatMsAgo / 1000).toFixed(1)}s ago`,
    w.memory?.paused === true && w.state === 'running' ? 'paused (memory)' : w.state,
  ])
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)))
  const fmt = (r: string[]): string =>
    r
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd()
  lines.push('', fmt(header), fmt(widths.map((w) => '-'.repeat(w))), ...rows.map(fmt))
  // The status lists the most active workers only (`STATUS_TOP_N`).
  if (s.workersTotal > s.workers.length)
    lines.push(`… and ${s.workersTotal - s.workers.length} more workers`)
  return lines.join('\n')
}
