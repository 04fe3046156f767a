// A Future's states, as small integers (see the drawing on `Future`).
// Small integers ordered so that `>= FULFILLED` means done and `>= CANCELLED` means cancelled.

export const PENDING = 0
export const RUNNING = 1
export const FULFILLED = 2
export const REJECTED = 3
export const CANCELLED = 4
/** Cancelled, and the executor has been told (setRunningOrNotifyCancel returned false). */
export const CANCELLED_NOTIFIED = 5
export type State =
  | typeof PENDING
  | typeof RUNNING
  | typeof FULFILLED
  | typeof REJECTED
  | typeof CANCELLED
  | typeof CANCELLED_NOTIFIED

/** The four states of Python's Future, as shown by `toString()`. */
export type FutureState = 'pending' | 'running' | 'finished' | 'cancelled'

/** A finer view for executors: how a done future ended. */
export type SettledState = 'pending' | 'running' | 'fulfilled' | 'rejected' | 'cancelled'

/** A synchronous look at a future: its state, and its value or error once it has one. */
export type Peek<T> =
  | { readonly state: 'fulfilled'; readonly value: T }
  | { readonly state: 'rejected'; readonly error: Error }
  | { readonly state: 'pending' | 'running' | 'cancelled' }

export function settledState(state: State): SettledState {
  switch (state) {
    case PENDING:
      return 'pending'
    case RUNNING:
      return 'running'
    case FULFILLED:
      return 'fulfilled'
    case REJECTED:
      return 'rejected'
    case CANCELLED:
    case CANCELLED_NOTIFIED:
      return 'cancelled'
  }
}

export function stateName(state: State): FutureState {
  switch (state) {
    case PENDING:
      return 'pending'
    case RUNNING:
      return 'running'
    case FULFILLED:
    case REJECTED:
      return 'finished'
    case CANCELLED:
    case CANCELLED_NOTIFIED:
      return 'cancelled'
  }
}
