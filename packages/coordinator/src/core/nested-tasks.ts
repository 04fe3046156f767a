import {
  DescendantLimitError,
  WaitForGraph,
  fnLabel,
  type DeadlockError,
} from '@clusterpool/protocol'

import type { CoreState } from './core-state.js'
import { NestedLink } from './nested-link.js'
import { ClientSession, type WorkerSession } from './sessions.js'

/**
 * How much a child task's priority exceeds its parent's: enough that, at equal priorities, work
 * a running task started finishes before new work starts (the tree drains depth-first), and small
 * enough that a thousand generations stay below the next whole priority a user would give.
 */
export const NESTED_PRIORITY_BOOST = 0.001

/**
 * Tasks that submit tasks (`currentTask().executor`), on the coordinator's side.
 *
 * Each running task that uses its executor gets a `ClientSession` with a `parent`: it is a client
 * like any other (submit, cancel, release, gather, scatter), whose link (`NestedLink`) runs
 * through the task's worker, and whose children are keyed under the task's run
 * (`<key>/<run>:<id>`, `run` counting the sessions this coordinator made). A
 * child's value goes to the parent's worker, never through the client that owns the root.
 *
 * - **Ownership.** The session lives for one run of its task: when that run ends (its result or
 *   error, or its worker is gone), every key it holds is released. Released children that no
 *   live task depends on stop (cancelled if queued, aborted if running); the others run on for
 *   their dependents.
 * - **Wait-for graph.** Children's dependency edges are added when they are submitted, and a
 *   task's await edges when its executor announces a wait (`await`). A wait that would close a
 *   cycle is answered with `DeadlockError` for that future. A task leaves the graph when it
 *   settles.
 * - **Descendants.** Each root task counts the tasks below it; past `maxDescendants` a submit
 *   fails with `DescendantLimitError`.
 */
export class NestedTasks {
  readonly graph = new WaitForGraph()
  readonly #s: CoreState
  /** Sessions of running tasks, by task key. */
  readonly #sessions = new Map<string, ClientSession>()
  /** Tasks submitted below each root task that has any, by root key. */
  readonly #descendants = new Map<string, number>()
  /** Runs given a session so far: each session's id is unique. */
  #runs = 0

  constructor(s: CoreState) {
    this.#s = s
  }

  /** Sessions open now (running tasks that used their executors). */
  get size(): number {
    return this.#sessions.size
  }

  /**
   * The session of task `key`'s executor, made on its first frame. Undefined if `worker` does not
   * run the task (the caller checks the report first) or it has no client task.
   */
  session(key: string, worker: WorkerSession): ClientSession | undefined {
    const open = this.#sessions.get(key)
    if (open !== undefined) return open.parent?.workerId === worker.id ? open : undefined
    const task = this.#s.tasks.get(key)
    if (task === undefined) return undefined
    const parent = {
      key,
      root: task.client.parent?.root ?? key,
      workerId: worker.id,
      priority: task.opts?.priority ?? 0,
    }
    // One session per run: a rerun's children must not meet the ids of the run before.
    const session = new ClientSession(
      `${key}/${++this.#runs}`,
      `${fnLabel(task.fn)} (${key})`,
      worker.remote,
      new NestedLink(key, worker),
      parent,
    )
    this.#sessions.set(key, session)
    this.graph.add(key, fnLabel(task.fn))
    return session
  }

  /** The error to fail a submit from `session` with when its root's tree is full. */
  overCap(session: ClientSession): DescendantLimitError | undefined {
    const root = session.parent?.root
    if (root === undefined) return undefined
    const count = this.#descendants.get(root) ?? 0
    const max = this.#s.options.maxDescendants
    if (count >= max) {
      return new DescendantLimitError(
        `task ${this.#s.label(root)} (${root}) already has ${count} descendant tasks, the most ` +
          `maxDescendants (${max}) allows: a recursion that does not end? Raise the ` +
          "coordinator's maxDescendants if the tree is meant to be this large.",
      )
    }
    return undefined
  }

  /** A child was submitted: it joins the graph, with an edge to each unfinished dependency. */
  submitted(
    session: ClientSession,
    key: string,
    label: string,
    deps: readonly { key: string }[] | undefined,
  ): void {
    const root = session.parent?.root
    if (root !== undefined) this.#descendants.set(root, (this.#descendants.get(root) ?? 0) + 1)
    const graph = this.graph
    graph.add(key, label)
    // A new task has no waiters yet: its dependency edges cannot close a cycle.
    if (deps !== undefined) for (const d of deps) graph.addEdge(key, d.key, 'dependency')
  }

  /** The task behind `session` awaits the future `key`: the edge, or the deadlock it closes. */
  awaits(session: ClientSession, key: string): DeadlockError | undefined {
    const from = session.parent?.key
    if (from === undefined) return undefined
    return this.graph.addEdge(from, key, 'await')
  }

  /** The task `key` settled: nothing waits for it any more. */
  settled(key: string): void {
    if (this.graph.size > 0) this.graph.remove(key)
    if (this.#descendants.size > 0) this.#descendants.delete(key)
  }

  /** The run of `key` on `workerId` ended: its executor's keys are released (see above). */
  runEnded(key: string, workerId: string): void {
    if (this.#sessions.size === 0) return
    const session = this.#sessions.get(key)
    if (session !== undefined && session.parent?.workerId === workerId) this.#close(session)
  }

  /** A worker is gone: the runs of every task on it ended. */
  workerGone(workerId: string): void {
    for (const session of [...this.#sessions.values()]) {
      if (session.parent?.workerId === workerId) this.#close(session)
    }
  }

  #close(session: ClientSession): void {
    const s = this.#s
    const key = session.parent?.key
    if (key === undefined || this.#sessions.get(key) !== session) return
    this.#sessions.delete(key)
    session.link.close()
    const now = performance.now()
    for (const child of session.keys) {
      s.tasks.get(child)?.drop()
      s.scheduler.release(child, now)
    }
    session.keys.clear()
    session.gather?.clear()
    for (const hash of session.sources) s.sources.release(hash)
    session.sources.clear()
  }
}
