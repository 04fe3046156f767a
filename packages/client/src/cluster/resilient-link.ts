import {
  AuthError,
  CloseCode,
  InvalidOptionError,
  VersionMismatchError,
  type ClientHello,
  type ClientToCoordinator,
  type ClientWelcome,
  type CoordinatorToClient,
} from '@clusterpool/protocol'
import {
  openSession,
  type Connection,
  type ConnectionHandlers,
  type DialOptions,
  type ItemOf,
  type ItemsKey,
  type OfKind,
} from '@clusterpool/transport'

import type { ExecutorEventSource } from './executor-events.js'
import { backoffMs, LinkState, nextLinkState, type LinkTransition } from './link-state.js'

type ClientConnection = Connection<'coordinator->client', ClientToCoordinator>

/** What the executor gives its `ResilientLink`. */
export interface ResilientLinkOptions {
  readonly url: string
  readonly dial: DialOptions
  /** Ping interval on each connection; three without a pong drop it. Milliseconds. */
  readonly keepAliveMs: number
  /** How long to keep redialing after a drop before giving up. Milliseconds. */
  readonly reconnectTimeoutMs: number
  /** The `hello` of a redial (with its `resume`), built when it is sent. */
  hello(): ClientHello
  /**
   * A redial was welcomed (the link is `connected` again): send the unfinished work again.
   * Returns what it sent, for the `reconnected` event.
   */
  resume(welcome: ClientWelcome): { resubmitted: number; claimed: number }
  events: ExecutorEventSource
  /** One line per outage and per recovery (never per retry). */
  log(message: string): void
}

/** Close codes after which redialing cannot help: the same hello would be refused again. */
const FINAL_CODES: ReadonlySet<number> = new Set([
  CloseCode.PROTOCOL,
  CloseCode.AUTH,
  CloseCode.VERSION_MISMATCH,
  CloseCode.PAYLOAD_TOO_LARGE,
  CloseCode.MESSAGE_TOO_BIG,
])

/**
 * The I/O shell of the executor's link state machine (`link-state.ts`): a `CoordinatorLink`
 * over a WebSocket connection that, when the connection drops, redials with jittered backoff
 * for up to `reconnectTimeoutMs` and then lets the executor resume on the new connection. While
 * it redials, messages are dropped (the executor replays what matters on resume) and the
 * executor hears nothing: only a give-up (or a shutdown) reaches its `onClose`.
 */
export class ResilientLink {
  readonly #o: ResilientLinkOptions
  /** Where `disconnected` and `reconnected` go (the executor's, set once it exists). */
  set events(events: ExecutorEventSource) {
    this.#o.events = events
  }

  #state: LinkState = LinkState.CONNECTED
  #connection: ClientConnection
  #handlers: ConnectionHandlers<CoordinatorToClient> | undefined
  #timer: NodeJS.Timeout | undefined

  constructor(connection: ClientConnection, options: ResilientLinkOptions) {
    this.#o = options
    this.#connection = connection
    this.#attach(connection)
  }

  get state(): LinkState {
    return this.#state
  }

  /** True once it gave up or was closed; a link that redials is not closed. */
  get closed(): boolean {
    return this.#state === LinkState.BROKEN || this.#state === LinkState.CLOSED
  }

  get congested(): boolean {
    return this.#state === LinkState.CONNECTED && this.#connection.congested
  }

  onceDrained(listener: () => void): void {
    if (this.#state === LinkState.CONNECTED) this.#connection.onceDrained(listener)
    else listener()
  }

  setHandlers(handlers: ConnectionHandlers<CoordinatorToClient>): void {
    this.#handlers = handlers
  }

  send(message: ClientToCoordinator): void {
    if (this.#state === LinkState.CONNECTED) this.#connection.send(message)
  }

  pushItem<
    K extends ClientToCoordinator['kind'],
    F extends ItemsKey<OfKind<ClientToCoordinator, K>>,
  >(kind: K, field: F, item: ItemOf<OfKind<ClientToCoordinator, K>, F>): void {
    if (this.#state === LinkState.CONNECTED) this.#connection.pushItem(kind, field, item)
  }

  flush(): void {
    if (this.#state === LinkState.CONNECTED) this.#connection.flush()
  }

  close(code?: number, reason?: string): void {
    if (this.closed) return
    const wasConnected = this.#state === LinkState.CONNECTED
    this.#move('close')
    clearTimeout(this.#timer)
    if (wasConnected) {
      this.#connection.close(code, reason) // its close event reaches the executor
    } else {
      this.#handlers?.onClose(code ?? CloseCode.NORMAL, reason ?? '')
    }
  }

  #attach(connection: ClientConnection): void {
    connection.setHandlers({
      onMessages: (messages) => this.#handlers?.onMessages(messages),
      onClose: (code, reason) => this.#onClose(connection, code, reason),
      onProtocolError: (error) => this.#handlers?.onProtocolError?.(error),
    })
    // A coordinator that vanished without closing (a partition, a frozen host) is noticed by
    // pings: the connection is dropped, and redialed.
    connection.keepAlive(this.#o.keepAliveMs, 3 * this.#o.keepAliveMs)
  }

  #onClose(connection: ClientConnection, code: number, reason: string): void {
    if (connection !== this.#connection) return
    switch (this.#state) {
      case LinkState.CONNECTED:
        this.#move('drop')
        if (FINAL_CODES.has(code)) return this.#giveUp(code, reason)
        this.#o.log(
          `clusterpool: lost the coordinator (${code}${reason ? `: ${reason}` : ''}); ` +
            `reconnecting for up to ${this.#o.reconnectTimeoutMs} ms, futures stay pending`,
        )
        this.#o.events.emit('disconnected', { code, reason })
        void this.#redial(performance.now())
        return
      case LinkState.CLOSED:
        this.#handlers?.onClose(code, reason)
        return
      case LinkState.RECONNECTING:
      case LinkState.BROKEN:
        return
    }
  }

  async #redial(since: number): Promise<void> {
    const deadline = since + this.#o.reconnectTimeoutMs
    let last = 'no attempt finished'
    for (let attempt = 1; this.#state === LinkState.RECONNECTING; attempt++) {
      const left = deadline - performance.now()
      if (left <= 0) break
      await new Promise<void>((resolve) => {
        this.#timer = setTimeout(resolve, Math.min(backoffMs(attempt), left))
      })
      if (this.#state !== LinkState.RECONNECTING) return
      try {
        const timeout = Math.max(1, Math.min(this.#o.dial.connectTimeoutMs ?? 10_000, left))
        const { connection, welcome } = await openSession<
          'coordinator->client',
          ClientToCoordinator,
          ClientWelcome
        >(this.#o.url, 'coordinator->client', this.#o.hello(), {
          ...this.#o.dial,
          connectTimeoutMs: timeout,
        })
        if (this.#state !== LinkState.RECONNECTING) {
          connection.close(CloseCode.NORMAL, 'client shutdown')
          return
        }
        this.#connection = connection
        this.#move('resume')
        this.#attach(connection)
        const sent = this.#o.resume(welcome)
        const downtimeMs = Math.round(performance.now() - since)
        this.#o.log(
          `clusterpool: reconnected to the coordinator after ${downtimeMs} ms; sent ` +
            `${sent.resubmitted} unfinished tasks again and claimed ${sent.claimed} held values`,
        )
        this.#o.events.emit('reconnected', { downtimeMs, attempts: attempt, ...sent })
        return
      } catch (error) {
        if (
          error instanceof AuthError ||
          error instanceof VersionMismatchError ||
          error instanceof InvalidOptionError
        )
          return this.#giveUp(CloseCode.AUTH, error.message)
        last = (error as Error).message
      }
    }
    if (this.#state === LinkState.RECONNECTING)
      this.#giveUp(
        1006,
        `the coordinator did not come back within reconnectTimeoutMs (${this.#o.reconnectTimeoutMs} ms; last: ${last})`,
      )
  }

  #giveUp(code: number, reason: string): void {
    this.#move('give-up')
    this.#o.log(`clusterpool: gave up on the coordinator: ${reason}`)
    this.#handlers?.onClose(code, reason)
  }

  #move(name: LinkTransition): void {
    this.#state = nextLinkState(this.#state, name)
  }
}
