// The clusterpool systems under test, opened and closed uniformly. The packages are loaded with
// dynamic imports so that the anchors still run when a package does not build.
import type * as Client from 'clusterpool'
import type { Executor } from 'clusterpool'

import { withTimeout } from '../harness/timeout.js'

export type ClientModule = typeof Client

export interface OpenSystem {
  readonly executor: Executor
  /** Shuts the executor down and stops whatever the system started. */
  close(): Promise<void>
}

export interface ExecutorSystem {
  /** e.g. `clusterpool ProcessPool(2)`. */
  readonly name: string
  open(): Promise<OpenSystem>
}

let clientModule: Promise<ClientModule> | undefined

/** `@clusterpool/client`, loaded once; rejects with the import error if it does not load. */
export function loadClient(): Promise<ClientModule> {
  clientModule ??= import('clusterpool')
  return clientModule
}

/** Shuts an executor down, cancelling what is left, within `ms`. */
export async function shutdownQuietly(executor: Executor, ms = 20_000): Promise<void> {
  try {
    await withTimeout(
      executor.shutdown({ wait: true, cancelFutures: true }),
      ms,
      'executor shutdown',
    )
  } catch {
    // Reported by the caller's scenario if it matters; the process exits at the end anyway.
  }
}

export function threadPool(workers: number): ExecutorSystem {
  return {
    name: `clusterpool ThreadPool(${workers})`,
    async open() {
      const { ThreadPoolExecutor } = await loadClient()
      const executor = new ThreadPoolExecutor({ maxWorkers: workers })
      return { executor, close: () => shutdownQuietly(executor) }
    },
  }
}

export function processPool(workers: number): ExecutorSystem {
  return {
    name: `clusterpool ProcessPool(${workers})`,
    async open() {
      const { ProcessPoolExecutor } = await loadClient()
      const executor = new ProcessPoolExecutor({ maxWorkers: workers })
      return { executor, close: () => shutdownQuietly(executor) }
    },
  }
}

/** The no-op task of every scenario (shipped as source, compiled once per worker). */
export const inc = (x: number): number => x + 1

export function* range(n: number): Generator<number> {
  for (let i = 0; i < n; i++) yield i
}

/** Submits `workers × 4` no-ops so processes are started and the function is compiled. */
export async function warmUp(executor: Executor, workers: number): Promise<void> {
  await Promise.all(Array.from({ length: workers * 4 }, (_, i) => executor.submit(inc, i)))
}
