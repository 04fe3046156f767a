// The LocalCluster systems. @clusterpool/coordinator is imported dynamically and described by the
// small interface below, so that the rest of the bench runs (and says why this part is skipped)
// while the coordinator does not build or does not export LocalCluster yet.
import type { Executor, LocalCluster } from 'clusterpool'

import { withTimeout } from '../harness/timeout.js'
import { loadClient, shutdownQuietly, type ExecutorSystem, type OpenSystem } from './systems.js'

/** What the bench uses of `LocalCluster` (see the cluster issue). */
export interface LocalClusterLike {
  readonly url: string
  readonly token?: string
  executor?(): Promise<Executor> | Executor
  close(): Promise<void>
}

export interface LocalClusterStatic {
  start(options: {
    workers: number
    procs: number
    workerOutput?: 'inherit' | 'ignore'
  }): Promise<LocalClusterLike>
}

const COORDINATOR = 'clusterpool'

/** LocalCluster, or the reason it is not available. */
export async function loadLocalCluster(): Promise<
  { LocalCluster: LocalClusterStatic } | { reason: string }
> {
  try {
    const mod = (await import(COORDINATOR)) as { LocalCluster?: LocalClusterStatic }
    if (typeof mod.LocalCluster?.start !== 'function') {
      return { reason: `${COORDINATOR} does not export LocalCluster.start yet` }
    }
    return { LocalCluster: mod.LocalCluster }
  } catch (error) {
    return { reason: `${COORDINATOR} did not load (${(error as Error).message.split('\n')[0]})` }
  }
}

/**
 * `ClusterExecutor.connect(url, { token })`; `reconnectTimeoutMs` shortens how long it redials a
 * coordinator that is gone (a scenario that closes its coordinator first).
 */
export async function connectTo(
  url: string,
  token: string | undefined,
  reconnectTimeoutMs?: number,
): Promise<Executor> {
  const { ClusterExecutor } = await loadClient()
  return await ClusterExecutor.connect(url, {
    ...(token === undefined ? {} : { token }),
    ...(reconnectTimeoutMs === undefined ? {} : { reconnectTimeoutMs }),
  })
}

/**
 * A client of `cluster`: over WebSocket (`ClusterExecutor.connect`, the path a separate program
 * takes, and the default), or the coordinator's in-process client (`cluster.executor()`).
 */
export async function clusterExecutor(
  cluster: LocalClusterLike,
  inProcess = false,
): Promise<Executor> {
  if (inProcess) {
    if (typeof cluster.executor !== 'function') throw new Error('LocalCluster has no executor()')
    return await cluster.executor()
  }
  return await connectTo(cluster.url, cluster.token)
}

/** LocalCluster `workers`×`procs`; the client connects over ws unless `inProcess`. */
export function localCluster(
  LocalCluster: LocalClusterStatic,
  workers: number,
  procs: number,
  inProcess = false,
): ExecutorSystem {
  return {
    name: `clusterpool LocalCluster ${workers}×${procs}${inProcess ? ' (in-process client)' : ''}`,
    async open(): Promise<OpenSystem> {
      const cluster = await withTimeout(
        LocalCluster.start({ workers, procs, workerOutput: 'ignore' }),
        60_000,
        'LocalCluster.start',
      )
      let executor: Executor
      try {
        executor = await withTimeout(clusterExecutor(cluster, inProcess), 30_000, 'cluster client')
      } catch (error) {
        await cluster.close()
        throw error
      }
      return {
        executor,
        async close() {
          await shutdownQuietly(executor)
          await withTimeout(cluster.close(), 30_000, 'LocalCluster.close').catch(() => undefined)
        },
      }
    },
  }
}

/**
 * Runs `body` on a LocalCluster with no workers yet (the scenario adds its own, named and
 * configured), then closes it.
 */
export async function withEmptyCluster<T>(body: (cluster: LocalCluster) => Promise<T>): Promise<T> {
  const { LocalCluster } = await import('clusterpool')
  const cluster = await withTimeout(
    LocalCluster.start({ workers: 0, workerOutput: 'ignore' }),
    60_000,
    'LocalCluster.start',
  )
  try {
    return await body(cluster)
  } finally {
    await cluster.close()
  }
}
