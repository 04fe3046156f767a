import { InvalidOptionError } from '@clusterpool/protocol'

/** What a `ClusterExecutor` tells listeners about its link (`ex.on(name, listener)`). */
export interface ClusterExecutorEvents {
  /**
   * The connection to the coordinator was lost; the executor reconnects (for up to
   * `reconnectTimeoutMs`) and its futures stay pending. Once per outage, not per retry.
   */
  disconnected: (event: DisconnectedEvent) => void
  /** A new connection was welcomed and the unfinished work was sent again. */
  reconnected: (event: ReconnectedEvent) => void
}

export interface DisconnectedEvent {
  /** The WebSocket close code, and its reason. */
  readonly code: number
  readonly reason: string
}

export interface ReconnectedEvent {
  /** How long the outage lasted, in milliseconds. */
  readonly downtimeMs: number
  /** Dial attempts it took. */
  readonly attempts: number
  /** Unfinished tasks and scatters sent again. */
  readonly resubmitted: number
  /** Held values claimed back. */
  readonly claimed: number
}

type Listeners = { [K in keyof ClusterExecutorEvents]: Set<ClusterExecutorEvents[K]> }

/** A tiny typed emitter: a listener that throws is reported and the others still run. */
export class ExecutorEventSource {
  readonly #listeners: Listeners = { disconnected: new Set(), reconnected: new Set() }

  /** @throws InvalidOptionError for an event name that is not one of `ClusterExecutorEvents`. */
  on<K extends keyof ClusterExecutorEvents>(name: K, listener: ClusterExecutorEvents[K]): void {
    if (!Object.hasOwn(this.#listeners, name))
      throw new InvalidOptionError(
        `unknown event ${JSON.stringify(String(name))}; a cluster executor emits ` +
          Object.keys(this.#listeners).join(' and '),
      )
    if (typeof listener !== 'function')
      throw new InvalidOptionError(`the listener of ${String(name)} must be a function`)
    ;(this.#listeners[name] as Set<ClusterExecutorEvents[K]>).add(listener)
  }

  off<K extends keyof ClusterExecutorEvents>(name: K, listener: ClusterExecutorEvents[K]): void {
    ;(this.#listeners[name] as Set<ClusterExecutorEvents[K]> | undefined)?.delete(listener)
  }

  emit<K extends keyof ClusterExecutorEvents>(
    name: K,
    event: Parameters<ClusterExecutorEvents[K]>[0],
  ): void {
    for (const listener of this.#listeners[name] as Set<(e: typeof event) => void>) {
      try {
        listener(event)
      } catch (error) {
        console.error(`clusterpool: a '${name}' listener threw`, error)
      }
    }
  }
}
