// The parent side of children/cluster-host.ts: a LocalCluster in a process of its own.
import type { ChildProcess } from 'node:child_process'

import { startIpcChild } from './coordinator-child.js'

export interface ClusterHost {
  readonly child: ChildProcess
  readonly url: string
  readonly token: string | undefined
  /** How long `LocalCluster.start` took in the child. Milliseconds. */
  readonly startMs: number
  /** The child's memory after a full GC. */
  memory(): Promise<NodeJS.MemoryUsage>
  close(): Promise<void>
}

/** Starts a LocalCluster of `workers` × `procs` in a child process and waits until it is up. */
export async function startClusterHost(workers: number, procs = 1): Promise<ClusterHost> {
  const c = await startIpcChild(
    'cluster-host.ts',
    [String(workers), String(procs)],
    'LocalCluster start in its own process',
  )
  return {
    child: c.child,
    url: String(c.hello.url),
    token: typeof c.hello.token === 'string' ? c.hello.token : undefined,
    startMs: Number(c.hello.startMs),
    async memory() {
      return (await c.ask('mem', 'memory sample')).memory as NodeJS.MemoryUsage
    },
    close: () => c.close(20_000),
  }
}
