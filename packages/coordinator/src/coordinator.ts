import { randomBytes } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'

import {
  PROTOCOL_VERSION,
  type ClientHello,
  type ClientToCoordinator,
  type ClientWelcome,
  type CoordinatorToClient,
  type CoordinatorToWorker,
  type WorkerHello,
} from '@clusterpool/protocol'
import { CLUSTERPOOL_VERSION, Connection, LoopbackEnd } from '@clusterpool/transport'
import { destination, pino, type Logger } from 'pino'
import type { WebSocket } from 'ws'

import { CoordinatorCore } from './core/coordinator-core.js'
import type { ClusterStatus } from './core/status.js'
import { installDashboard, type Dashboard, type DashboardOptions } from './dashboard/index.js'
import { CoordinatorMetrics } from './http/metrics.js'
import { handleHttp, type PageHandler } from './http/routes.js'
import type { SchedulerOptions } from './scheduler/options.js'
import { CoordinatorServer } from './server/coordinator-server.js'
import { ClientIngest } from './server/client-ingest.js'
import { isLoopback, resolveCoordinatorOptions, type CoordinatorOptions } from './server/options.js'

export interface CoordinatorStartOptions extends CoordinatorOptions {
  /** Scheduler tuning (saturation, stealing, estimates). Default: the scheduler's defaults. */
  scheduler?: SchedulerOptions
  /** A pino logger to use instead of the coordinator's own. */
  logger?: Logger
  /** Dashboard tuning (update interval, history, caps). Default: the dashboard's defaults. */
  dashboard?: DashboardOptions
}

/**
 * The coordinator: accepts clients and worker daemons over WebSocket, schedules tasks across the
 * workers, and serves status endpoints. A program that embeds it gets an in-process client with
 * `embeddedExecutor(coordinator)` from the `clusterpool` package (see `openClientLink`).
 *
 * ```ts
 * await using coordinator = await Coordinator.start({ port: 8786, token })
 * // workers: npx clusterpool worker ws://HOST:8786 --token …
 * ```
 */
export class Coordinator {
  readonly log: Logger
  readonly core: CoordinatorCore
  readonly metrics: CoordinatorMetrics
  readonly #server: CoordinatorServer
  readonly #token: string | undefined
  readonly #pages: PageHandler[] = []
  #url = ''
  #httpUrl = ''
  #dashboard: Dashboard | undefined
  #closed: Promise<void> | undefined

  private constructor(options: CoordinatorStartOptions) {
    const resolved = resolveCoordinatorOptions(options)
    this.#token = resolved.token
    this.log =
      options.logger ??
      pino({ name: 'clusterpool-coordinator', level: resolved.logLevel }, destination(2))
    this.metrics = new CoordinatorMetrics(
      () => ({
        tasks: Object.fromEntries(
          Object.entries(this.core.scheduler.taskCounts()).filter(
            ([k]) => k !== 'forgotten' && k !== 'total',
          ),
        ),
        workers: this.core.workerCount,
        procs: this.core.procs,
        clients: this.core.clientCount,
      }),
      () => this.core.status().workers.map((w) => ({ name: w.name, memory: w.memory })),
    )
    // Client ids carry a tag of this start: a client of this start never gets the id of a client
    // of an earlier one that will resume.
    const epoch = `-${randomBytes(3).toString('hex')}`
    this.core = new CoordinatorCore(resolved, this.log, this.metrics, options.scheduler, epoch)
    this.#server = new CoordinatorServer(
      resolved,
      {
        acceptClient: (ws, hello, remote) => this.#acceptClient(ws, hello, remote),
        acceptWorker: (ws, hello, remote) => this.#acceptWorker(ws, hello, remote),
        handleHttp: (req, res, url) => this.#handleHttp(req, res, url),
        onProtocolError: (reason) => this.metrics.protocolErrors.inc({ reason }),
      },
      this.log,
    )
    if (!isLoopback(resolved.host) && (!resolved.workerToken || !resolved.clientToken)) {
      this.log.warn(
        `INSECURE: listening on ${resolved.host} without a token. Anyone who can reach this port can run code on every worker.`,
      )
    }
  }

  /** Starts a coordinator and waits until it listens. */
  static async start(options: CoordinatorStartOptions = {}): Promise<Coordinator> {
    const c = new Coordinator(options)
    const resolved = resolveCoordinatorOptions(options)
    const port = await c.#server.listen()
    const host =
      resolved.host.includes(':') && !resolved.host.startsWith('[')
        ? `[${resolved.host}]`
        : resolved.host
    const shownHost = host === '0.0.0.0' || host === '[::]' ? '127.0.0.1' : host
    c.#url = `${resolved.tls ? 'wss' : 'ws'}://${shownHost}:${port}`
    c.#httpUrl = `${resolved.tls ? 'https' : 'http'}://${shownHost}:${port}`
    c.core.start()
    c.#dashboard = installDashboard(c, options.dashboard)
    c.log.info(
      { url: c.#url, protocol: PROTOCOL_VERSION, version: CLUSTERPOOL_VERSION },
      'coordinator listening',
    )
    return c
  }

  /** Where workers and clients connect: `ws://host:port` (or `wss://`). */
  get url(): string {
    return this.#url
  }

  /** The HTTP(S) base of the status endpoints and dashboard. */
  get httpUrl(): string {
    return this.#httpUrl
  }

  /** The token clients and workers present, if one is set. */
  get token(): string | undefined {
    return this.#token
  }

  /** The cluster as `GET /api/status` shows it. */
  status(): ClusterStatus {
    return this.core.status(this.#url)
  }

  /** Serves extra pages (the dashboard) behind the same authentication. */
  addPage(handler: PageHandler): void {
    this.#pages.push(handler)
  }

  /**
   * Opens an in-process link for a new client named `name`: the client's end, already
   * welcomed. Messages cross it as objects, without encoding; `ClusterExecutor.overLink` turns
   * it into an executor.
   */
  openClientLink(name = 'embedded'): {
    link: LoopbackEnd<CoordinatorToClient, ClientToCoordinator>
    welcome: ClientWelcome
  } {
    const [clientEnd, coordinatorEnd] = LoopbackEnd.pair<CoordinatorToClient, ClientToCoordinator>()
    let welcome: ClientWelcome | undefined
    clientEnd.setHandlers({
      onMessages: (messages) => {
        const first = messages[0]
        if (first?.kind === 'welcome') welcome = first
      },
      onClose: () => {},
    })
    const hello: ClientHello = { kind: 'hello', version: PROTOCOL_VERSION, role: 'client', name }
    const session = this.core.addClient(coordinatorEnd, hello, 'in-process')
    const ingest = new ClientIngest({
      handle: (messages) => this.core.onClientMessages(session, messages),
      closed: () => coordinatorEnd.closed,
    })
    coordinatorEnd.setHandlers({
      onMessages: (messages) => ingest.push(messages),
      onClose: () => {
        ingest.close()
        this.core.onClientClosed(session)
      },
    })
    coordinatorEnd.flush()
    if (!welcome) throw new Error('the in-process client was not welcomed')
    return { link: clientEnd, welcome }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close()
  }

  /** Closes every connection and stops listening. Idempotent. */
  close(): Promise<void> {
    this.#closed ??= (async () => {
      this.#dashboard?.close()
      this.core.stop()
      await this.#server.close()
      this.log.info('coordinator closed')
    })()
    return this.#closed
  }

  #acceptClient(ws: WebSocket, hello: ClientHello, remote: string): void {
    const conn = new Connection<'client->coordinator', CoordinatorToClient>(
      ws,
      'client->coordinator',
      {
        onMessages: () => {},
        onClose: () => {},
      },
      { onFrameIn: () => this.metrics.clientFrames.inc() },
    )
    const session = this.core.addClient(conn, hello, remote)
    // A client that vanished without closing releases its tasks once pings go unanswered.
    conn.keepAlive(5000, 15_000, () =>
      this.log.warn({ client: session.id, remote }, 'client stopped answering pings'),
    )
    const ingest = new ClientIngest({
      handle: (messages) => this.core.onClientMessages(session, messages),
      closed: () => conn.closed,
      pause: () => conn.pauseReading(),
      resume: () => conn.resumeReading(),
    })
    conn.setHandlers({
      onMessages: (messages) => ingest.push(messages),
      onClose: () => {
        ingest.close()
        this.core.onClientClosed(session)
      },
      onProtocolError: (error) => {
        this.metrics.protocolErrors.inc({ reason: 'protocol' })
        this.log.warn(
          { client: session.id, remote },
          `closed a client connection: ${error.message}`,
        )
      },
    })
  }

  #acceptWorker(ws: WebSocket, hello: WorkerHello, remote: string): void {
    const conn = new Connection<'worker->coordinator', CoordinatorToWorker>(
      ws,
      'worker->coordinator',
      {
        onMessages: () => {},
        onClose: () => {},
      },
      { onFrameIn: () => this.metrics.workerFrames.inc() },
    )
    const session = this.core.addWorker(conn, hello, remote)
    conn.setHandlers({
      onMessages: (messages) => this.core.onWorkerMessages(session, messages),
      onClose: () => this.core.onWorkerClosed(session),
      onProtocolError: (error) => {
        this.metrics.protocolErrors.inc({ reason: 'protocol' })
        this.log.warn(
          { worker: session.id, remote },
          `closed a worker connection: ${error.message}`,
        )
      },
    })
  }

  #handleHttp(req: IncomingMessage, res: ServerResponse, url: URL): void {
    handleHttp(req, res, url, () => this.status(), this.metrics, this.#pages)
  }
}
