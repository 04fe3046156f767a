import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'

import { ClusterExecutor, type ClusterExecutorOptions } from '@clusterpool/client'
import { Coordinator, type CoordinatorStartOptions } from '@clusterpool/coordinator'
import { InvalidOptionError, MAX_TIMER_MS, TimeoutError, checkMs } from '@clusterpool/protocol'
import { nanoid } from 'nanoid'

import { embeddedExecutor } from './embedded-executor.js'

export interface LocalClusterOptions {
  /** Worker daemons to start, each a separate OS process. Default 2. */
  workers?: number
  /** Task processes per worker daemon. Default 1. */
  procs?: number
  /** Port of the coordinator; 0 picks a free one. Default 0. */
  port?: number
  /** Token for the coordinator; default: a random one, so nothing else on this host can connect. */
  token?: string
  /** Wait this long for the workers to register. Milliseconds; default 30000. */
  startTimeoutMs?: number
  /** Passed to the coordinator (scheduler tuning, log level…). */
  coordinator?: Omit<CoordinatorStartOptions, 'host' | 'port' | 'token'>
  /** How the worker daemons' output is handled. Default `inherit` (their logs show in this terminal); `ignore` hides them. */
  workerOutput?: 'inherit' | 'ignore'
}

/**
 * A whole cluster on this host: a coordinator in this process and worker daemons as separate
 * OS processes, connected over WebSocket on loopback, exactly as on real hosts.
 *
 * ```ts
 * await using cluster = await LocalCluster.start({ workers: 2, procs: 1 })
 * const ex = cluster.executor()
 * console.log(await ex.submit((x: number) => x + 1, 41))
 * ```
 */
export class LocalCluster {
  readonly coordinator: Coordinator
  readonly #workers: ChildProcess[] = []
  readonly #procs: number
  readonly #output: 'inherit' | 'ignore'
  /** What this cluster's workers and clients present: their role's token, else the shared one. */
  readonly #workerToken: string
  readonly #clientToken: string
  #nextWorker = 0
  #closed: Promise<void> | undefined

  private constructor(
    coordinator: Coordinator,
    procs: number,
    output: 'inherit' | 'ignore',
    tokens: { workerToken?: string | undefined; clientToken?: string | undefined },
  ) {
    this.coordinator = coordinator
    this.#procs = procs
    this.#output = output
    this.#workerToken = tokens.workerToken ?? coordinator.token ?? ''
    this.#clientToken = tokens.clientToken ?? coordinator.token ?? ''
  }

  static async start(options: LocalClusterOptions = {}): Promise<LocalCluster> {
    const workers = options.workers ?? 2
    const procs = options.procs ?? 1
    if (!Number.isInteger(workers) || workers < 0)
      throw new InvalidOptionError(
        `LocalCluster options.workers must be a non-negative integer, got ${String(workers)}`,
      )
    if (!Number.isInteger(procs) || procs < 1)
      throw new InvalidOptionError(
        `LocalCluster options.procs must be a positive integer, got ${String(procs)}`,
      )
    const startTimeoutMs = checkMs(
      options.startTimeoutMs ?? 30_000,
      'LocalCluster options.startTimeoutMs',
      { max: MAX_TIMER_MS },
    )
    const coordinator = await Coordinator.start({
      logLevel: 'warn',
      ...options.coordinator,
      host: '127.0.0.1',
      port: options.port ?? 0,
      token: options.token ?? nanoid(32),
    })
    const cluster = new LocalCluster(
      coordinator,
      procs,
      options.workerOutput ?? 'inherit',
      options.coordinator ?? {},
    )
    try {
      // Nothing runs yet: the workers register once their task processes are up, so that this
      // start, not the first tasks, pays for starting them (a worker added later registers at
      // once, its processes starting meanwhile).
      for (let i = 0; i < workers; i++)
        cluster.addWorker({ env: { CLUSTERPOOL_WARM_UP: 'before-registering' } })
      await cluster.waitForWorkers(workers, startTimeoutMs)
    } catch (error) {
      await cluster.close()
      throw error
    }
    return cluster
  }

  /** `ws://127.0.0.1:PORT` */
  get url(): string {
    return this.coordinator.url
  }

  /** The shared token (workers and clients present their role's token when it has one). */
  get token(): string {
    return this.coordinator.token ?? ''
  }

  /** What workers present: `coordinator.workerToken`, else the shared token. */
  get workerToken(): string {
    return this.#workerToken
  }

  /** What clients and the dashboard present: `coordinator.clientToken`, else the shared token. */
  get clientToken(): string {
    return this.#clientToken
  }

  /** The dashboard and status endpoints' base URL. */
  get httpUrl(): string {
    return this.coordinator.httpUrl
  }

  /** Process ids of the worker daemons still running. */
  get workerPids(): number[] {
    return this.#workers
      .filter((w) => w.exitCode === null && w.signalCode === null)
      .map((w) => w.pid!)
  }

  /** An in-process client of the coordinator. */
  executor(): ClusterExecutor {
    return embeddedExecutor(this.coordinator)
  }

  /** A client over WebSocket, as a separate program would connect. */
  connect(options: ClusterExecutorOptions = {}): Promise<ClusterExecutor> {
    return ClusterExecutor.connect(this.url, { token: this.#clientToken, ...options })
  }

  /** Starts one more worker daemon; returns its process. */
  addWorker(
    options: { procs?: number; name?: string; args?: string[]; env?: Record<string, string> } = {},
  ): ChildProcess {
    const name = options.name ?? `local-${++this.#nextWorker}`
    const child = spawn(
      process.execPath,
      [
        CLI_ENTRY,
        'worker',
        this.url,
        '--procs',
        String(options.procs ?? this.#procs),
        '--name',
        name,
        '--log-level',
        'warn',
        ...(options.args ?? []),
      ],
      {
        stdio: ['ignore', this.#output, this.#output],
        env: {
          ...process.env,
          // The host's memory is shared among the workers started here (unless given).
          CLUSTERPOOL_HOST_WORKERS: String(Math.max(1, this.#workers.length + 1)),
          // Freed memory goes back to the system at once, not kept by malloc (as Dask's nanny
          // sets for its workers): see the README's memory section.
          MALLOC_TRIM_THRESHOLD_: '65536',
          ...options.env,
          CLUSTERPOOL_TOKEN: this.#workerToken,
          CLUSTERPOOL_EXIT_WITH_PARENT: '1',
        },
      },
    )
    this.#workers.push(child)
    return child
  }

  /** Resolves once at least `n` workers are registered. */
  async waitForWorkers(n: number, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs
    while (this.coordinator.core.workerCount < n) {
      if (Date.now() > deadline) {
        throw new TimeoutError(
          `only ${this.coordinator.core.workerCount} of ${n} workers registered within ${timeoutMs} ms`,
        )
      }
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
  }

  /** Drains the workers (SIGTERM), then closes the coordinator. Idempotent. */
  close(): Promise<void> {
    this.#closed ??= (async () => {
      await Promise.all(this.#workers.map((w) => stopProcess(w)))
      await this.coordinator.close()
    })()
    return this.#closed
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close()
  }
}

/**
 * This package's own CLI, which starts a worker daemon with `worker URL`: found through the
 * package's `./cli` export, so it is the built file whether this module runs built or from source.
 */
const CLI_ENTRY = fileURLToPath(import.meta.resolve('clusterpool/cli'))

async function stopProcess(child: ChildProcess, graceMs = 5000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = once(child, 'exit')
  child.kill('SIGTERM')
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs)
  await exited
  clearTimeout(timer)
}
