import {
  DataLostError,
  DependencyError,
  DescendantLimitError,
  Direction,
  InvalidOptionError,
  ProtocolError,
  SELF_ID,
  createDecoder,
  serializeError,
  validateTaskOptions,
  type ClientToCoordinator,
  type CoordinatorToClient,
  type FnRef,
  type ScatterItem,
  type SubmitTask,
  type TaskOptions,
  type WaitForGraph,
} from '@clusterpool/protocol'
import { FrameLink } from '@clusterpool/transport'

import type { Future } from '../future/future.js'

/** A task of a local executor, as a session sees it. */
export interface HostedTask {
  readonly future: Future<unknown>
  /** Its node in the wait-for graph. */
  readonly key: string
  readonly label: string
  /** The root task of its tree (itself for a task submitted from outside). */
  readonly root: HostedTask
  /** Tasks submitted under this root, all generations (counted on roots only). */
  descendants: number
  /** Unfinished tasks that take it as an argument: it outlives its parent for them. */
  liveDependents: number
}

/** What a session needs from its executor. */
export interface SessionHost {
  readonly graph: WaitForGraph
  /** Cap on `HostedTask.descendants`. */
  readonly maxDescendants: number
  /** Task options this executor cannot honour. */
  readonly unsupported: readonly (keyof TaskOptions)[]
  /** Sends a frame to the running task `poolId`'s executor. */
  send(poolId: number, frame: Uint8Array): void
  /**
   * Runs a child of the session's task: `args` is encoded, or (with dependencies) a promise of
   * the encoded arguments once the dependencies have values. The child reports to `session`.
   */
  scheduleChild(session: TaskSession, child: ChildCall): HostedTask
  /** Ends a running child early (its future finishes as the task does). */
  abort(task: HostedTask): void
  /** A task already finished with `value` (a scattered value: nothing runs). */
  settled(value: unknown): HostedTask
}

/** A child task, as its parent's executor submitted it. */
export interface ChildCall {
  readonly id: number
  readonly ref: FnRef
  readonly options: Readonly<TaskOptions>
  readonly chunk: boolean
  /** Encoded arguments, or the dependencies to wait for and the arguments to fill in then. */
  readonly args: Uint8Array | { readonly deps: readonly ChildDep[]; readonly raw: Uint8Array }
}

/** A dependency of a child: the id its arguments name it by, and the task. */
export interface ChildDep {
  readonly id: number
  readonly task: HostedTask
}

/**
 * The local executor's side of one running task's executor (`currentTask().executor`): it plays
 * the coordinator for that task's client protocol, over the pool's channel. Children run on the
 * same pool, ahead of outside work; their results go back to the task as they come (nothing is
 * held). Each wait the task announces is checked against the executor's wait-for graph.
 *
 * The session belongs to one run of the task: when the run ends, `close` cancels the children
 * that are unfinished and that no other live task depends on.
 */
export class TaskSession {
  readonly parent: HostedTask
  readonly poolId: number
  readonly #host: SessionHost
  readonly #link: FrameLink<'client->coordinator', CoordinatorToClient>
  readonly #children = new Map<number, HostedTask>()
  readonly #sources = new Map<string, FnRef>()
  readonly #decoder = createDecoder()
  #closed = false

  constructor(host: SessionHost, parent: HostedTask, poolId: number) {
    this.#host = host
    this.parent = parent
    this.poolId = poolId
    this.#link = new FrameLink<'client->coordinator', CoordinatorToClient>(
      Direction.CLIENT_TO_COORDINATOR,
      (frame) => host.send(poolId, frame),
    )
    this.#link.setHandlers({
      onMessages: (messages) => {
        for (const m of messages) this.#handle(m)
      },
      onClose: () => {},
      onProtocolError: (error) => {
        console.error(`clusterpool: task ${parent.key} sent a malformed frame; dropped:`, error)
      },
    })
    host.graph.add(parent.key, parent.label)
  }

  /** A frame from the task's executor. */
  receive(frame: Uint8Array): void {
    if (!this.#closed) this.#link.receive(frame)
  }

  /** A child started (its future is running). */
  started(id: number): void {
    if (!this.#closed) this.#link.pushItem('running', 'ids', id)
  }

  /** A child finished: its encoded value goes to the task. */
  result(id: number, value: Uint8Array): void {
    if (!this.#closed && this.#children.has(id))
      this.#link.pushItem('results', 'items', { id, value })
  }

  /** A child failed. */
  failed(id: number, error: Error): void {
    if (this.#closed || !this.#children.has(id)) return
    this.#link.pushItem('errors', 'items', { id, error: serializeError(error) })
  }

  /** The task's run ended: its unfinished children go, unless a live task depends on them. */
  close(): void {
    if (this.#closed) return
    this.#closed = true
    this.#link.close()
    // The newest first: a dependent goes before the children it depends on, which then have no
    // live dependent left and go too.
    for (const child of [...this.#children.values()].reverse()) this.#drop(child)
    this.#children.clear()
    this.#host.graph.remove(this.parent.key)
  }

  #handle(m: ClientToCoordinator): void {
    switch (m.kind) {
      case 'submit':
        for (const t of m.tasks) this.#submit(t)
        return
      case 'cancel':
        for (const id of m.ids) {
          const child = this.#children.get(id)
          if (child === undefined || child.future.done()) continue
          if (child.future.cancel()) this.#link.pushItem('cancelled', 'ids', id)
          else this.#host.abort(child)
        }
        return
      case 'release':
        for (const id of m.ids) {
          const child = this.#children.get(id)
          if (child === undefined) continue
          this.#children.delete(id)
          this.#drop(child)
        }
        return
      case 'gather':
        // Nothing is ever held here: every result went to the task with its `results` item.
        for (const id of m.ids) {
          this.#reject(id, new DataLostError(`future ${id} holds no value on this local pool`))
        }
        return
      case 'scatter':
        for (const item of m.items) this.#scatter(item)
        return
      case 'await':
        for (const id of m.ids) this.#await(id)
        return
      case 'ping':
        this.#link.send({ kind: 'pong', seq: m.seq })
        return
      case 'hello':
        return
    }
  }

  #submit(t: SubmitTask): void {
    if (this.#children.has(t.id) || t.id === SELF_ID) {
      return this.#reject(t.id, new ProtocolError(`task id ${t.id} is already in use`))
    }
    const root = this.parent.root
    if (root.descendants >= this.#host.maxDescendants) {
      return this.#reject(
        t.id,
        new DescendantLimitError(
          `task ${root.label} (${root.key}) already has ${root.descendants} descendant tasks, ` +
            `the most maxDescendants (${this.#host.maxDescendants}) allows: a recursion that ` +
            'does not end? Raise maxDescendants if the tree is meant to be this large.',
        ),
      )
    }
    let ref: FnRef
    let options: Readonly<TaskOptions>
    try {
      ref = this.#resolveFn(t)
      options = validateTaskOptions(t.opts, `task ${t.id} options`)
      for (const key of this.#host.unsupported) {
        if (options[key] !== undefined) {
          throw new InvalidOptionError(
            `task option ${key} is not supported on a local pool; it needs a cluster executor`,
          )
        }
      }
    } catch (error) {
      return this.#reject(t.id, error as Error)
    }
    let deps: ChildDep[] | undefined
    for (const depId of t.deps ?? []) {
      const dep = depId === SELF_ID ? this.parent : this.#children.get(depId)
      if (dep === undefined) {
        return this.#reject(
          t.id,
          new DependencyError(`task ${depId}`, 'is unknown here (released, or never submitted)'),
        )
      }
      ;(deps ??= []).push({ id: depId, task: dep })
    }
    root.descendants++
    const child = this.#host.scheduleChild(this, {
      id: t.id,
      ref,
      options,
      chunk: t.chunk === true,
      args: deps === undefined ? t.args : { deps, raw: t.args },
    })
    this.#children.set(t.id, child)
    const graph = this.#host.graph
    graph.add(child.key, child.label)
    for (const { task: dep } of deps ?? []) {
      if (dep.future.done()) continue
      dep.liveDependents++
      child.future.addDoneCallback(() => dep.liveDependents--)
      // A new task has no waiters yet: its dependency edges cannot close a cycle.
      graph.addEdge(child.key, dep.key, 'dependency')
    }
  }

  #resolveFn(t: SubmitTask): FnRef {
    const fn = t.fn
    if (fn.kind === 'module') return fn
    if (fn.source !== undefined) {
      const ref: FnRef = { kind: 'source', hash: fn.hash, name: fn.name, source: fn.source }
      this.#sources.set(fn.hash, ref)
      return ref
    }
    const known = this.#sources.get(fn.hash)
    if (known === undefined) {
      throw new ProtocolError(`function ${fn.hash} was never sent with its source`)
    }
    return known
  }

  #scatter(item: ScatterItem): void {
    if (this.#children.has(item.id)) {
      return this.#reject(item.id, new ProtocolError(`scatter id ${item.id} is already in use`))
    }
    let value: unknown
    try {
      value = this.#decoder.decode(item.value)
    } catch (error) {
      return this.#reject(item.id, error as Error)
    }
    const child = this.#host.settled(value)
    this.#children.set(item.id, child)
    this.#link.pushItem('results', 'items', { id: item.id, value: item.value })
  }

  #await(id: number): void {
    const child = id === SELF_ID ? this.parent : this.#children.get(id)
    if (child === undefined || child.future.done()) return
    const deadlock = this.#host.graph.addEdge(this.parent.key, child.key, 'await')
    if (deadlock !== undefined) this.#reject(id, deadlock)
  }

  /** A child the task no longer wants: it goes, unless a live task depends on it. */
  #drop(child: HostedTask): void {
    if (child.future.done() || child.liveDependents > 0) return
    if (!child.future.cancel()) this.#host.abort(child)
  }

  #reject(id: number, error: Error): void {
    this.#link.pushItem('errors', 'items', { id, error: serializeError(error) })
  }
}
