// One executor factory per kind, so the shared suite runs unchanged on each.
import {
  ProcessPoolExecutor,
  ThreadPoolExecutor,
  type BaseExecutor,
  type LocalCluster,
} from 'clusterpool'

import { startCluster } from './cluster.js'

export type ExecutorKind = 'thread' | 'process' | 'cluster' | 'embedded'

export interface ExecutorKit {
  readonly kind: ExecutorKind
  /** Tasks the executor runs at once (workers × procs). */
  readonly slots: number
  /** A new executor: a new pool, or a new client of the file's shared cluster. */
  make(): Promise<BaseExecutor>
  /** The shared cluster, for cluster kinds. */
  readonly cluster: LocalCluster | undefined
  /** Shuts down whatever `make` left running, and the cluster. */
  teardown(): Promise<void>
}

const SLOTS = 2

export async function executorKit(kind: ExecutorKind): Promise<ExecutorKit> {
  const made: BaseExecutor[] = []
  let torn: Promise<void> | undefined
  const track = (ex: BaseExecutor): BaseExecutor => {
    made.push(ex)
    return ex
  }
  const cluster =
    kind === 'cluster' || kind === 'embedded'
      ? await startCluster({ workers: 2, procs: SLOTS / 2 })
      : undefined
  const make = async (): Promise<BaseExecutor> => {
    switch (kind) {
      case 'thread':
        return track(new ThreadPoolExecutor({ maxWorkers: SLOTS }))
      case 'process':
        return track(new ProcessPoolExecutor({ maxWorkers: SLOTS }))
      case 'cluster':
        return track(await cluster!.connect({ name: 'suite' }))
      case 'embedded':
        return track(cluster!.executor())
    }
  }
  return {
    kind,
    slots: SLOTS,
    cluster,
    make,
    teardown() {
      torn ??= (async () => {
        await Promise.all(made.map((ex) => ex.shutdown({ cancelFutures: true }).catch(() => {})))
        await cluster?.close()
      })()
      return torn
    },
  }
}
