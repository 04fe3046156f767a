import { nextState } from '@clusterpool/protocol'

/**
 * The pool's own state, and its transitions:
 *
 * ```
 *   open ──close()──► closing: runs what is queued, then stops its children ──drained──► closed
 *     │                  │
 *     │                  └──close({ force: true })──┐
 *     └──close({ force: true })──────────────────────┴──► forced-closing: fails every unfinished
 *                                            task, kills its children ──children gone──► closed
 * ```
 *
 * Only an `open` pool takes tasks; a `forced-closing` one starts no child.
 */
export const PoolState = {
  OPEN: 'open',
  CLOSING: 'closing',
  FORCED_CLOSING: 'forced-closing',
  CLOSED: 'closed',
} as const
export type PoolState = (typeof PoolState)[keyof typeof PoolState]

const { OPEN, CLOSING, FORCED_CLOSING, CLOSED } = PoolState

/** Every legal move of a pool: name → allowed sources and the target. */
export const POOL_TRANSITIONS = {
  close: { from: [OPEN], to: CLOSING },
  'force-close': { from: [OPEN, CLOSING], to: FORCED_CLOSING },
  /** Nothing queued and no child left. */
  finish: { from: [CLOSING, FORCED_CLOSING], to: CLOSED },
} as const satisfies Record<string, { from: readonly PoolState[]; to: PoolState }>

export type PoolTransition = keyof typeof POOL_TRANSITIONS

/** The state a named transition leads to from `from`; throws on an illegal move (a pool bug). */
export function nextPoolState(from: PoolState, name: PoolTransition): PoolState {
  return nextState(POOL_TRANSITIONS, name, from, 'TaskPool:')
}
