import type { IncomingMessage, ServerResponse } from 'node:http'

/** What the event stream tells its owner. */
export interface EventStreamHooks {
  /** The first viewer connected: start gathering. */
  onFirstViewer(): void
  /** The last viewer left: stop all work. */
  onLastViewer(): void
  /** The `hello` payload (JSON) for a viewer that connects or catches up after stalling. */
  hello(): string
}

/**
 * A viewer's connection:
 *
 * ```text
 *   open ──write would block──▶ stalled ──drain (sends a fresh hello)──▶ open
 *   open | stalled ──closed by the browser or the server──▶ gone
 * ```
 *
 * A stalled viewer skips updates instead of buffering them, so a slow browser costs the
 * coordinator no memory; when its socket drains it gets a whole new `hello`.
 */
type ViewerState = 'open' | 'stalled' | 'gone'

interface Viewer {
  readonly res: ServerResponse
  state: ViewerState
}

/** Server-sent events (`text/event-stream`) to every connected dashboard. */
export class EventStream {
  readonly #viewers = new Set<Viewer>()
  readonly #hooks: EventStreamHooks
  readonly #maxViewers: number

  constructor(hooks: EventStreamHooks, maxViewers: number) {
    this.#hooks = hooks
    this.#maxViewers = maxViewers
  }

  get viewers(): number {
    return this.#viewers.size
  }

  /** Answers `GET /api/events`: keeps the response open and registers the viewer. */
  open(req: IncomingMessage, res: ServerResponse): void {
    if (this.#viewers.size >= this.#maxViewers) {
      res
        .writeHead(503, { 'content-type': 'text/plain', 'retry-after': '10' })
        .end(`clusterpool: at most ${this.#maxViewers} dashboards at once\n`)
      return
    }
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    })
    if (req.method === 'HEAD') {
      res.end()
      return
    }
    req.socket.setNoDelay(true)
    const viewer: Viewer = { res, state: 'open' }
    this.#viewers.add(viewer)
    res.on('close', () => this.#leave(viewer))
    if (this.#viewers.size === 1) this.#hooks.onFirstViewer()
    this.#send(viewer, `retry: 2000\n\n${frame('hello', this.#hooks.hello())}`)
  }

  /** Sends one event to every open viewer (stalled ones skip it). */
  broadcast(event: string, json: string): void {
    if (this.#viewers.size === 0) return
    const text = frame(event, json)
    for (const viewer of this.#viewers) if (viewer.state === 'open') this.#send(viewer, text)
  }

  /** Ends every stream (the browsers reconnect on their own if the server stays up). */
  closeAll(): void {
    for (const viewer of [...this.#viewers]) viewer.res.end()
  }

  #send(viewer: Viewer, text: string): void {
    if (viewer.res.write(text)) return
    viewer.state = 'stalled'
    viewer.res.once('drain', () => {
      if (viewer.state !== 'stalled') return
      viewer.state = 'open'
      this.#send(viewer, frame('hello', this.#hooks.hello()))
    })
  }

  #leave(viewer: Viewer): void {
    if (viewer.state === 'gone') return
    viewer.state = 'gone'
    this.#viewers.delete(viewer)
    if (this.#viewers.size === 0) this.#hooks.onLastViewer()
  }
}

/** One SSE event; `json` holds no raw newline (JSON.stringify escapes them). */
function frame(event: string, json: string): string {
  return `event: ${event}\ndata: ${json}\n\n`
}
