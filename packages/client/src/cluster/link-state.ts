import { nextState, type Transitions } from '@clusterpool/protocol'

/**
 * A cluster executor's link to its coordinator (`ResilientLink`):
 *
 * ```text
 *                 drop (the connection closed)
 *   connected ───────────────────────────────▶ reconnecting ──┐ dial failed: back off, try again
 *       ▲                                         │    ▲      │
 *       └────────── resume (welcome) ─────────────┘    └──────┘
 *                                                 │
 *                                                 └── give-up (reconnectTimeoutMs over, or
 *                                                      refused: token, version) ──▶ broken
 *   connected | reconnecting ──close (shutdown)──▶ closed
 * ```
 *
 * - `connected`: messages go out on the connection.
 * - `reconnecting`: messages are dropped; the executor keeps what it must send again (its
 *   unfinished tasks' submits) and replays it on `resume`, so its futures stay pending.
 * - `broken`: it gave up; the unfinished futures failed with `ConnectionLostError`.
 * - `closed`: shut down by the executor. `broken` and `closed` are terminal.
 */
export const LinkState = {
  CONNECTED: 'connected',
  RECONNECTING: 'reconnecting',
  BROKEN: 'broken',
  CLOSED: 'closed',
} as const
export type LinkState = (typeof LinkState)[keyof typeof LinkState]

const { CONNECTED, RECONNECTING, BROKEN, CLOSED } = LinkState

export const LINK_TRANSITIONS = {
  /** The connection closed (or went silent) while the executor runs. */
  drop: { from: [CONNECTED], to: RECONNECTING },
  /** A new connection was welcomed: the executor sends its unfinished work again. */
  resume: { from: [RECONNECTING], to: CONNECTED },
  /** `reconnectTimeoutMs` passed, or the coordinator refused the resume. */
  'give-up': { from: [RECONNECTING], to: BROKEN },
  /** The executor shut down. */
  close: { from: [CONNECTED, RECONNECTING], to: CLOSED },
} as const satisfies Transitions<LinkState>

export type LinkTransition = keyof typeof LINK_TRANSITIONS

export function nextLinkState(from: LinkState, name: LinkTransition): LinkState {
  return nextState(LINK_TRANSITIONS, name, from, 'ClusterExecutor link:')
}

/** The backoff before the `attempt`th redial (1, 2…): doubling from 100 ms up to 2 s, jittered ×0.5–1. Milliseconds. */
export function backoffMs(attempt: number, random: () => number = Math.random): number {
  const base = Math.min(2000, 100 * 2 ** Math.min(attempt - 1, 10))
  return Math.round(base * (0.5 + random() / 2))
}
