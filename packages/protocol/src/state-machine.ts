import { InvalidStateError } from './errors/errors.js'

/**
 * A state machine's transition table: each named transition lists the states it may start
 * from and the state it leads to. Written `as const satisfies Transitions<S>`, so that names
 * are checked at compile time and moves at run time (`nextState`).
 */
export type Transitions<S extends string> = Readonly<
  Record<string, { readonly from: readonly S[]; readonly to: S }>
>

/**
 * The state that transition `name` of `table` leads to from `from`.
 * @param machine who is moving, for the message: `'scheduler: task'`, `'TaskPool:'`.
 * @param subject which of its things, if any (a task key, a child's pid), after `machine`.
 *   Passed apart so that the message is built only when a move is illegal.
 * @throws InvalidStateError `<machine> <subject> cannot <name> from <from>` on an illegal move,
 *   which is a bug in the machine's caller.
 */
export function nextState<S extends string, T extends Transitions<S>>(
  table: T,
  name: keyof T & string,
  from: S,
  machine: string,
  subject?: string | number,
): S {
  const rule = table[name]!
  if (!rule.from.includes(from)) {
    const who = subject === undefined ? machine : `${machine} ${String(subject)}`
    throw new InvalidStateError(`${who} cannot ${name} from ${from}`)
  }
  return rule.to
}
