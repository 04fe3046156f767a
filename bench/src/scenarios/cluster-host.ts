// The parent side of children/cluster-host.ts: a LocalCluster in a process of its own.
import type { ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'

import { killChild, startChild } from '../harness/children.js'
import { withTimeout } from '../harness/timeout.js'

export const CHILDREN = new URL('../children/', import.meta.url)
/** How the bench starts its TypeScript helper processes. */
export const NODE_ARGS = ['--expose-gc', '--import=tsx']

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
  const script = fileURLToPath(new URL('cluster-host.ts', CHILDREN))
  const child = startChild(
    process.execPath,
    [...NODE_ARGS, script, String(workers), String(procs)],
    {
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    },
  )
  let stderr = ''
  child.stderr?.setEncoding('utf8').on('data', (c: string) => (stderr = (stderr + c).slice(-2000)))
  const next = async (what: string): Promise<Record<string, unknown>> => {
    const [m] = (await withTimeout(once(child, 'message'), 120_000, what)) as [
      Record<string, unknown>,
    ]
    return m
  }
  let hello: Record<string, unknown>
  try {
    hello = await next('LocalCluster start in its own process')
  } catch (error) {
    await killChild(child)
    throw new Error(`${(error as Error).message}; child stderr: ${stderr.trim() || '(empty)'}`)
  }
  if (typeof hello.error === 'string') {
    await killChild(child)
    throw new Error(hello.error)
  }
  return {
    child,
    url: String(hello.url),
    token: typeof hello.token === 'string' ? hello.token : undefined,
    startMs: Number(hello.startMs),
    async memory() {
      child.send({ cmd: 'mem' })
      return (await next('memory sample')).memory as NodeJS.MemoryUsage
    },
    async close() {
      if (child.connected) child.send({ cmd: 'close' })
      const exited = once(child, 'exit')
      await withTimeout(exited, 20_000, 'LocalCluster host exit').catch(() => undefined)
      await killChild(child)
    },
  }
}
