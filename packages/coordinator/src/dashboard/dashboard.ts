import type { IncomingMessage, ServerResponse } from 'node:http'

import type { FunctionProgress, TaskEndEvent } from '../core/coordinator-core.js'
import type { ClusterStatus } from '../core/status.js'
import type { PageHandler } from '../http/routes.js'
import { Aggregator } from './aggregator.js'
import { serveAsset } from './assets.js'
import { EventStream } from './event-stream.js'
import { resolveDashboardOptions, type DashboardOptions } from './options.js'

/** The hooks of the coordinator's core the dashboard attaches to while someone watches. */
export interface DashboardCoreHooks {
  onChange: (() => void) | undefined
  onTaskEnd: ((event: TaskEndEvent) => void) | undefined
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
 * While `live`, it hooks the core's `onChange` and `onTaskEnd` (O(1) each) and a timer builds
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
  #previousOnChange: (() => void) | undefined
  #previousOnTaskEnd: ((event: TaskEndEvent) => void) | undefined
  #installedOnChange: (() => void) | undefined
  #installedOnTaskEnd: ((event: TaskEndEvent) => void) | undefined

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
    const core = this.#host.core
    this.#previousOnChange = core.onChange
    this.#previousOnTaskEnd = core.onTaskEnd
    const previousChange = this.#previousOnChange
    const previousTaskEnd = this.#previousOnTaskEnd
    this.#installedOnChange = previousChange
      ? () => {
          previousChange()
          this.#onChange()
        }
      : this.#onChange
    this.#installedOnTaskEnd = previousTaskEnd
      ? (event) => {
          previousTaskEnd(event)
          this.#onTaskEnd(event)
        }
      : this.#onTaskEnd
    core.onChange = this.#installedOnChange
    core.onTaskEnd = this.#installedOnTaskEnd
    this.#aggregator.resume()
    this.#timer = setInterval(() => this.#tick(), this.#updateIntervalMs)
    this.#timer.unref()
  }

  #detach(): void {
    if (this.#state !== 'live') return
    this.#state = 'idle'
    clearInterval(this.#timer)
    this.#timer = undefined
    const core = this.#host.core
    // Restore what was there, unless someone hooked in after us (then theirs stays).
    if (core.onChange === this.#installedOnChange) core.onChange = this.#previousOnChange
    if (core.onTaskEnd === this.#installedOnTaskEnd) core.onTaskEnd = this.#previousOnTaskEnd
    this.#installedOnChange = undefined
    this.#installedOnTaskEnd = undefined
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
