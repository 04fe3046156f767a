import type { IncomingMessage, ServerResponse } from 'node:http'

import type { CoreEventSource, TaskEndEvent } from '../core/events.js'
import type { FunctionProgress } from '../core/progress.js'
import type { ClusterStatus } from '../core/status.js'
import type { PageHandler } from '../http/routes.js'
import { Aggregator } from './aggregator.js'
import { serveAsset } from './assets.js'
import { EventStream } from './event-stream.js'
import { resolveDashboardOptions, type DashboardOptions } from './options.js'

/** What the dashboard observes of the coordinator's core: its events (while someone watches), its progress. */
export interface DashboardCoreHooks {
  readonly events: CoreEventSource
  readonly progress: ReadonlyMap<string, FunctionProgress>
}

/** What the dashboard needs of a coordinator (a `Coordinator` is one). */
export interface DashboardHost {
  /** Serves a page behind the coordinator's authentication. */
  addPage(handler: PageHandler): void
  status(): ClusterStatus
  readonly core: DashboardCoreHooks
}

/**
 * The dashboard's lifecycle. It does nothing at all until a browser watches:
 *
 * ```text
 *   idle ──attach (first viewer)──▶ live ──detach (last viewer left)──▶ idle
 *   idle | live ──close──▶ closed
 * ```
 *
 * While `live`, it listens to the core's `change` and `taskEnd` events (O(1) each) and a timer builds
 * one bounded update every `updateIntervalMs` for all viewers.
 */
export type DashboardState = 'idle' | 'live' | 'closed'

/**
 * The live web dashboard: `GET /` (the page and its files), `GET /api/events` (server-sent
 * events). Every route sits behind the coordinator's token: a browser logs in once with
 * `?token=`, gets an HttpOnly session cookie, and the token is never in the page.
 */
export class Dashboard {
  readonly #host: DashboardHost
  readonly #aggregator: Aggregator
  readonly #events: EventStream
  readonly #updateIntervalMs: number
  #state: DashboardState = 'idle'
  #timer: NodeJS.Timeout | undefined
  readonly #onChange = (): void => this.#aggregator.changed()
  readonly #onTaskEnd = (event: TaskEndEvent): void => this.#aggregator.taskEnded(event)

  constructor(host: DashboardHost, options: DashboardOptions = {}) {
    const resolved = resolveDashboardOptions(options)
    this.#host = host
    this.#updateIntervalMs = resolved.updateIntervalMs
    this.#aggregator = new Aggregator(
      { status: () => host.status(), progress: host.core.progress },
      resolved,
    )
    this.#events = new EventStream(
      {
        onFirstViewer: () => this.#attach(),
        onLastViewer: () => this.#detach(),
        hello: () => JSON.stringify(this.#aggregator.hello()),
      },
      resolved.maxViewers,
    )
  }

  get state(): DashboardState {
    return this.#state
  }

  /** Browsers connected to the event stream now. */
  get viewers(): number {
    return this.#events.viewers
  }

  /** The page handler: serves the dashboard's routes, returns false for any other path. */
  readonly handle: PageHandler = (req, res, url) => {
    if (url.pathname === '/api/events') {
      this.#openEvents(req, res)
      return true
    }
    return serveAsset(req, res, url.pathname)
  }

  /** Ends every stream, detaches from the core and stops the timer. Idempotent. */
  close(): void {
    if (this.#state === 'closed') return
    this.#events.closeAll()
    this.#detach()
    this.#state = 'closed'
  }

  #openEvents(req: IncomingMessage, res: ServerResponse): void {
    if (this.#state === 'closed') {
      res.writeHead(503, { 'content-type': 'text/plain' }).end('clusterpool: dashboard closed\n')
      return
    }
    this.#events.open(req, res)
  }

  // ─── transitions ────────────────────────────────────────────────────────────────────────

  #attach(): void {
    if (this.#state !== 'idle') return
    this.#state = 'live'
    const events = this.#host.core.events
    events.on('change', this.#onChange)
    events.on('taskEnd', this.#onTaskEnd)
    this.#aggregator.resume()
    this.#timer = setInterval(() => this.#tick(), this.#updateIntervalMs)
    this.#timer.unref()
  }

  #detach(): void {
    if (this.#state !== 'live') return
    this.#state = 'idle'
    clearInterval(this.#timer)
    this.#timer = undefined
    const events = this.#host.core.events
    events.off('change', this.#onChange)
    events.off('taskEnd', this.#onTaskEnd)
  }

  #tick(): void {
    const update = this.#aggregator.tick()
    if (update) this.#events.broadcast('update', JSON.stringify(update))
  }
}

/**
 * Serves the dashboard from `host` (a `Coordinator`) at `/`, behind its token:
 *
 * ```ts
 * const coordinator = await Coordinator.start({ token })
 * // open http://HOST:8786/?token=… once; the browser keeps a session cookie
 * ```
 */
export function installDashboard(host: DashboardHost, options?: DashboardOptions): Dashboard {
  const dashboard = new Dashboard(host, options)
  host.addPage(dashboard.handle)
  return dashboard
}
