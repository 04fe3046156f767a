import type { SerializedError } from '@clusterpool/protocol'

/** A task that ended on a worker: one bar of the dashboard's task stream. */
export interface TaskEndEvent {
  readonly fn: string
  readonly workerId: string
  /** Wall-clock start and end, milliseconds since the epoch (end − the worker's measured duration). */
  readonly startMs: number
  readonly endMs: number
  readonly ok: boolean
  /** For failures: the error's name, message and task-side stack. */
  readonly error?: SerializedError
}

/** The coordinator core's events, by name, with their listeners' signatures. */
export interface CoreEventMap {
  /** Something changed: after every batch of messages, session change and tick. */
  change: () => void
  /** A task ended on a worker (its result or error arrived). */
  taskEnd: (event: TaskEndEvent) => void
}

export type CoreEventName = keyof CoreEventMap

/** The side of `CoreEvents` that observers (the dashboard) see. */
export interface CoreEventSource {
  on<E extends CoreEventName>(event: E, listener: CoreEventMap[E]): void
  off<E extends CoreEventName>(event: E, listener: CoreEventMap[E]): void
  /** Whether anyone listens to `event` (the core builds no event nobody would get). */
  listening(event: CoreEventName): boolean
}

type Listener = CoreEventMap[CoreEventName]

/**
 * A typed emitter for the core's events. Emitting costs nothing when nobody listens, and a
 * listener added or removed during an emit takes effect from the next one (the lists are
 * copied on change, never on emit).
 */
export class CoreEvents implements CoreEventSource {
  /** Each list holds only listeners of its event (`on` is typed so). */
  readonly #listeners: Record<CoreEventName, readonly Listener[]> = { change: [], taskEnd: [] }

  on<E extends CoreEventName>(event: E, listener: CoreEventMap[E]): void {
    this.#listeners[event] = [...this.#listeners[event], listener]
  }

  off<E extends CoreEventName>(event: E, listener: CoreEventMap[E]): void {
    const list = this.#listeners[event]
    const i = list.indexOf(listener)
    if (i >= 0) this.#listeners[event] = [...list.slice(0, i), ...list.slice(i + 1)]
  }

  listening(event: CoreEventName): boolean {
    return this.#listeners[event].length > 0
  }

  emitChange(): void {
    for (const listener of this.#listeners.change) (listener as CoreEventMap['change'])()
  }

  emitTaskEnd(event: TaskEndEvent): void {
    for (const listener of this.#listeners.taskEnd) listener(event)
  }
}
