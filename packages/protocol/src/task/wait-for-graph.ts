import { DeadlockError, type CycleTask } from '../errors/errors.js'

/** Why one task waits for another: it awaits its future, or takes it as an argument. */
export type WaitEdge = 'await' | 'dependency'

interface Node {
  readonly key: string
  readonly label: string
  /** Position in a topological order of the graph: every edge goes from a lower `ord` up. */
  ord: number
  readonly out: Map<Node, WaitEdge>
  readonly in: Set<Node>
  /** The search that last visited this node (`WaitForGraph.#epoch`). */
  seen: number
  /** The node a forward search reached this one from, to name the cycle it finds. */
  via: Node | undefined
}

/**
 * Which live task waits for which: the graph a deadlock is a cycle of. A node is a task that has
 * not finished; an edge `a → b` says that `a` cannot finish before `b` does, because `a` awaits
 * `b`'s future (an await edge) or takes it as an argument (a dependency edge).
 *
 * A new edge that would close a cycle is refused: `addEdge` returns the `DeadlockError` naming
 * the cycle, and the graph is unchanged. Detection is therefore at the moment of the wait, never
 * by a timeout.
 *
 * The graph keeps a topological order of its nodes up to date as edges come (Pearce and Kelly,
 * "A dynamic topological sort algorithm for directed acyclic graphs", 2006). An edge that agrees
 * with the order costs O(1): a task awaiting a child it just submitted, the common case, always
 * does. One that disagrees searches only the nodes whose order lies between its two ends, and
 * reorders those. Removing nodes or edges never breaks the order, and costs their degree.
 *
 * Pure: no I/O, no timers. The coordinator keeps one for the cluster, each local pool executor
 * one for its pool.
 */
export class WaitForGraph {
  readonly #nodes = new Map<string, Node>()
  #nextOrd = 0
  #epoch = 0

  get size(): number {
    return this.#nodes.size
  }

  has(key: string): boolean {
    return this.#nodes.has(key)
  }

  /** Adds a task (no-op if it is in the graph already). */
  add(key: string, label: string): void {
    if (this.#nodes.has(key)) return
    this.#nodes.set(key, {
      key,
      label,
      ord: this.#nextOrd++,
      out: new Map(),
      in: new Set(),
      seen: 0,
      via: undefined,
    })
  }

  /** Removes a task and every edge to or from it: it finished, so nothing waits on it any more. */
  remove(key: string): void {
    const node = this.#nodes.get(key)
    if (node === undefined) return
    for (const to of node.out.keys()) to.in.delete(node)
    for (const from of node.in) from.out.delete(node)
    this.#nodes.delete(key)
  }

  /** Removes one edge (the wait ended). */
  removeEdge(from: string, to: string): void {
    const a = this.#nodes.get(from)
    const b = this.#nodes.get(to)
    if (a === undefined || b === undefined) return
    if (a.out.delete(b)) b.in.delete(a)
  }

  /** Whether `from` has an edge to `to`. */
  hasEdge(from: string, to: string): boolean {
    const a = this.#nodes.get(from)
    const b = this.#nodes.get(to)
    return a !== undefined && b !== undefined && a.out.has(b)
  }

  /** How many edges leave `key` (0 for a task not in the graph). */
  outDegree(key: string): number {
    return this.#nodes.get(key)?.out.size ?? 0
  }

  /**
   * Adds the edge `from → to` of `kind`, unless it would close a cycle: then the graph is left
   * as it was and the `DeadlockError` naming the cycle is returned. An end that is not in the
   * graph (a task that finished) can be part of no cycle: the edge is ignored.
   */
  addEdge(from: string, to: string, kind: WaitEdge): DeadlockError | undefined {
    const x = this.#nodes.get(from)
    const y = this.#nodes.get(to)
    if (x === undefined || y === undefined) return undefined
    if (x === y) return deadlock([x], [kind])
    if (x.out.has(y)) return undefined
    if (x.ord > y.ord) {
      const error = this.#reorder(x, y, kind)
      if (error !== undefined) return error
    }
    x.out.set(y, kind)
    y.in.add(x)
    return undefined
  }

  /**
   * Before adding `x → y` with `ord(x) > ord(y)`: find the nodes reachable from `y` below
   * `ord(x)` (if `x` is one, the edge closes a cycle) and those reaching `x` above `ord(y)`,
   * then give the second set the lowest of their positions and the first set the rest.
   */
  #reorder(x: Node, y: Node, kind: WaitEdge): DeadlockError | undefined {
    const upper = x.ord
    const lower = y.ord
    const forward = ++this.#epoch
    const reached: Node[] = []
    y.seen = forward
    y.via = undefined
    const stack: Node[] = [y]
    for (let n = stack.pop(); n !== undefined; n = stack.pop()) {
      reached.push(n)
      for (const next of n.out.keys()) {
        if (next === x) return this.#cycle(x, n, kind)
        if (next.seen !== forward && next.ord < upper) {
          next.seen = forward
          next.via = n
          stack.push(next)
        }
      }
    }
    const backward = ++this.#epoch
    const reaching: Node[] = []
    x.seen = backward
    stack.push(x)
    for (let n = stack.pop(); n !== undefined; n = stack.pop()) {
      reaching.push(n)
      for (const prev of n.in) {
        if (prev.seen !== backward && prev.ord > lower) {
          prev.seen = backward
          stack.push(prev)
        }
      }
    }
    const byOrd = (a: Node, b: Node): number => a.ord - b.ord
    reaching.sort(byOrd)
    reached.sort(byOrd)
    const slots = [...reaching, ...reached].map((n) => n.ord).sort((a, b) => a - b)
    let i = 0
    for (const n of reaching) n.ord = slots[i++] as number
    for (const n of reached) n.ord = slots[i++] as number
    return undefined
  }

  /** The cycle `x → y → … → last → x` found by the forward search (`via` links lead back to y). */
  #cycle(x: Node, last: Node, kind: WaitEdge): DeadlockError {
    const path: Node[] = []
    for (let n: Node | undefined = last; n !== undefined; n = n.via) path.push(n)
    path.reverse() // y … last
    const nodes = [x, ...path]
    const edges: WaitEdge[] = [kind]
    for (let i = 1; i < nodes.length; i++) {
      const from = nodes[i] as Node
      const to = nodes[(i + 1) % nodes.length] as Node
      edges.push(from.out.get(to) ?? 'await')
    }
    return deadlock(nodes, edges)
  }
}

/** The error for a cycle, its first edge being the wait that closed it. */
function deadlock(nodes: readonly Node[], edges: readonly WaitEdge[]): DeadlockError {
  const cycle: CycleTask[] = nodes.map((n) => ({ key: n.key, label: n.label }))
  const name = (n: CycleTask): string => `${n.label} (${n.key})`
  const first = cycle[0] as CycleTask
  if (cycle.length === 1) {
    const how = edges[0] === 'dependency' ? 'depend on' : 'await'
    return new DeadlockError(
      `deadlock: task ${name(first)} would ${how} its own future, which cannot finish before it does`,
      cycle,
      edges,
    )
  }
  const closing = edges[0] === 'dependency' ? 'depend on' : 'await'
  const second = cycle[1] as CycleTask
  return new DeadlockError(
    `deadlock: task ${name(first)} would ${closing} ${name(second)}, which ` +
      describeRest(cycle, edges) +
      `; none of these ${cycle.length} tasks could ever finish. The wait that closed the cycle ` +
      'fails with this error; the tasks themselves are unchanged.',
    cycle,
    edges,
  )
}

/** "awaits B (k2), which depends on C (k3), which awaits A (k1)": the cycle after its first edge. */
function describeRest(cycle: readonly CycleTask[], edges: readonly WaitEdge[]): string {
  const parts: string[] = []
  for (let i = 1; i < cycle.length; i++) {
    const to = cycle[(i + 1) % cycle.length] as CycleTask
    const verb = edges[i] === 'dependency' ? 'depends on' : 'awaits'
    parts.push(`${verb} ${to.label} (${to.key})`)
  }
  return parts.join(', which ')
}
