import {
  AbortedError,
  CloseCode,
  DependencyError,
  ErrorCode,
  FRAME_ENVELOPE_BYTES,
  detachBytes,
  InvalidTaskError,
  MessageLimits,
  fnKey,
  fnLabel,
  PROTOCOL_VERSION,
  PayloadTooLargeError,
  ProtocolError,
  SELF_ID,
  serializeError,
  type ClientHello,
  type ClientToCoordinator,
  type CoordinatorToClient,
  type FnRef,
  type ScatterItem,
  type SubmitTask,
  type WireFnRef,
} from '@clusterpool/protocol'
import { CLUSTERPOOL_VERSION, type MessageSink } from '@clusterpool/transport'

import { checkResumeToken, resumeToken } from './resume-token.js'

import { ClientTask, ClientTaskState } from './client-task.js'
import type { CoreState } from './core-state.js'
import { GatherQueue } from './gather-queue.js'
import type { RelayedAssigns } from './relayed-assigns.js'
import { NESTED_PRIORITY_BOOST } from './nested-tasks.js'
import { ClientSession, type ResolvedFn } from './sessions.js'
import { taskSpec } from './task-wire.js'

/**
 * Distinct function sources one client may have the coordinator hold for it at a time. A
 * client sends a source's text once per connection and its hash alone after that, so the
 * coordinator holds every source a client sent until it disconnects; past this many, a task
 * with a new source is refused (`InvalidTaskError`). 128 sources is far beyond a real program's
 * distinct shipped functions, and bounds what one connection pins (sources of up to
 * `maxPayload` each; the idle ones are then `SourceCache`'s LRU, 16 MiB by default).
 */
export const MAX_SOURCES_PER_CLIENT = 128

/**
 * The coordinator's side of a client connection: `submit`, `cancel`, `release`, `gather`,
 * `scatter` and `ping` come in and become scheduler events and client tasks
 * (`ClientTask`); what the client hears back about its tasks is decided by the `Dispatcher`.
 * The caller applies the scheduler's decisions after each batch.
 *
 * Function sources live in `CoreState.sources`, verified against their hash (a forged one fails
 * that task with `InvalidTaskError`, and nothing else happens) and held by every live task of
 * theirs and by every connected client that sent them (`MAX_SOURCES_PER_CLIENT`).
 */
export class ClientRole {
  readonly #s: CoreState
  readonly #assigns: RelayedAssigns
  #next = 0

  constructor(s: CoreState, assigns: RelayedAssigns) {
    this.#s = s
    this.#assigns = assigns
  }

  /**
   * A client passed its handshake: it gets an id and a `welcome`. A resuming one (`resume`)
   * gets its old id back if its `resumeToken` proves it (else it is refused, `AuthError`), and
   * its held values are claimed (`Adoption.claim`); a session still open under that id is
   * closed first, as a client reconnects only once its old connection is gone for it.
   */
  join(link: MessageSink<CoordinatorToClient>, hello: ClientHello, remote: string): ClientSession {
    const s = this.#s
    const resume = hello.resume
    const secret = s.options.clientToken ?? s.options.token
    if (resume !== undefined && !validResume(resume.clientId, resume.resumeToken, secret)) {
      const session = new ClientSession(resume.clientId, hello.name ?? '', remote, link)
      s.log.warn({ client: resume.clientId, remote }, 'AuthError: a forged resume was refused')
      link.send({
        kind: 'refuse',
        code: ErrorCode.AUTH,
        message: `the resume token does not prove client id ${resume.clientId}`,
      })
      link.close(CloseCode.AUTH, 'forged resume')
      return session
    }
    const id = resume?.clientId ?? `c${++this.#next}${s.epoch}`
    const old = s.clients.get(id)
    if (old !== undefined) {
      old.link.close(4000, 'the client resumed on another connection')
      this.closed(old)
    }
    const session = new ClientSession(id, hello.name ?? id, remote, link)
    if (hello.maxPayload !== undefined) {
      session.maxPayload = hello.maxPayload
      // Lists go in frames the client takes; one value too big for it fails alone (`sendValue`).
      link.limitFrames?.(hello.maxPayload - FRAME_ENVELOPE_BYTES)
    }
    s.clients.set(id, session)
    link.send({
      kind: 'welcome',
      version: PROTOCOL_VERSION,
      clientId: id,
      maxPayload: s.options.maxPayload,
      coordinator: {
        name: 'clusterpool-coordinator',
        versions: { node: process.versions.node, clusterpool: CLUSTERPOOL_VERSION },
        workers: s.workers.size,
        procs: s.procs,
      },
      resumeToken: resumeToken(id, secret),
    })
    if (resume !== undefined) {
      const now = performance.now()
      s.adoption.resumed(session, resume.workers ?? 0)
      for (const heldId of resume.held) s.adoption.claim(session, heldId, now)
      s.log.info(
        { client: id, name: session.name, remote, held: resume.held.length },
        'client resumed',
      )
    } else {
      s.log.info({ client: id, name: session.name, remote }, 'client connected')
    }
    return session
  }

  /** Handles a batch of the client's messages; false if it broke the protocol and was closed. */
  handle(client: ClientSession, messages: readonly ClientToCoordinator[]): boolean {
    const now = performance.now()
    // A new batch: ids answered before it (in an earlier frame, or by a pump after a drain) may
    // be gathered again.
    client.gather?.newBatch()
    for (const m of messages) {
      switch (m.kind) {
        case 'submit': {
          const before = this.#s.stats.totals.submitted
          for (const t of m.tasks) this.#submit(client, t, now)
          // One update per message, not per task: prom-client counters are not free.
          this.#s.stats.submitMessage(this.#s.stats.totals.submitted - before)
          break
        }
        case 'cancel':
          for (const id of m.ids) if (ownId(client, id)) this.#cancel(client, client.key(id), now)
          break
        case 'release':
          for (const id of m.ids) if (ownId(client, id)) this.#release(client, client.key(id), now)
          break
        case 'gather':
          if (!this.#gather(client, m.ids)) return false
          break
        case 'scatter':
          for (const item of m.items) this.#scatter(client, item, now)
          break
        case 'ping':
          client.link.send({ kind: 'pong', seq: m.seq })
          break
        case 'await':
          if (client.parent === undefined) {
            // Only a task's own executor waits inside the cluster; a client has no slot to free.
            this.#s.metrics?.protocolErrors.inc({ reason: 'await-from-client' })
            client.link.close(CloseCode.PROTOCOL, 'await is for the executors of running tasks')
            return false
          }
          for (const id of m.ids) this.#await(client, id)
          break
        case 'hello':
          client.link.close(4400, 'hello was already received')
          return false
      }
    }
    return true
  }

  /** The client's connection closed: its tasks are cancelled and released. False if known gone. */
  closed(client: ClientSession): boolean {
    const s = this.#s
    if (!s.clients.delete(client.id)) return false
    const now = performance.now()
    for (const key of [...client.keys]) {
      if (s.scheduler.cancel(key, now)) s.stats.cancelled()
      s.scheduler.release(key, now)
      s.tasks.get(key)?.drop()
    }
    client.keys.clear()
    client.gather?.clear()
    for (const hash of client.sources) s.sources.release(hash)
    client.sources.clear()
    s.log.info({ client: client.id }, 'client disconnected; its tasks are cancelled and released')
    return true
  }

  #submit(client: ClientSession, t: SubmitTask, now: number): void {
    const s = this.#s
    if (!ownId(client, t.id))
      return reject(client, t.id, new ProtocolError(`task id ${t.id} names the task itself`))
    const key = client.key(t.id)
    if (s.tasks.has(key))
      return reject(
        client,
        t.id,
        new ProtocolError(`task id ${t.id} is already in use on this connection`),
      )
    if (client.heldBytes + t.args.byteLength > s.options.maxClientHeldBytes)
      return reject(client, t.id, overHeld(client, t.args.byteLength, s.options.maxClientHeldBytes))
    let resolved: ResolvedFn | undefined
    try {
      resolved = this.#fnOf(client, t.fn)
    } catch (error) {
      return reject(client, t.id, error as Error)
    }
    if (!resolved) {
      const hash = (t.fn as { hash: string }).hash
      return reject(
        client,
        t.id,
        new ProtocolError(`function ${hash} was never sent with its source`),
      )
    }
    const fn = resolved.ref
    let deps: { id: number; key: string }[] | undefined
    if (t.deps && t.deps.length > 0) {
      // Each dependency once, however often it is listed: its value travels once.
      const ids = t.deps.length === 1 ? t.deps : [...new Set(t.deps)]
      if (ids.length > MessageLimits.TASK_DEPS)
        return reject(
          client,
          t.id,
          new InvalidTaskError(
            `task ${t.id} has ${ids.length} distinct dependencies; at most ` +
              `${MessageLimits.TASK_DEPS} are allowed (fan in through a tree of tasks)`,
          ),
        )
      deps = []
      for (const id of ids) {
        const depKey = client.key(id)
        if (!s.tasks.has(depKey))
          return reject(
            client,
            t.id,
            new DependencyError(
              `task ${id}`,
              'is unknown to the coordinator (released, or never submitted)',
            ),
          )
        deps.push({ id, key: depKey })
      }
    }
    let opts = t.opts
    const parent = client.parent
    if (parent !== undefined) {
      const overCap = s.nested.overCap(client)
      if (overCap !== undefined) return reject(client, t.id, overCap)
      // A child inherits its parent's priority, a little higher: started work finishes first.
      const priority = (opts?.priority ?? parent.priority) + NESTED_PRIORITY_BOOST
      opts = { ...opts, priority }
    }
    try {
      s.adoption.submit(taskSpec(key, resolved.key, client.id, opts, deps), t.ran === true, now)
    } catch (error) {
      return reject(client, t.id, error as Error)
    }
    if (parent !== undefined) s.nested.submitted(client, key, resolved.label, deps)
    const progress = resolved.progress
    const args = detachBytes(t.args)
    const task = new ClientTask(key, client, t.id, fn, args, deps, opts, t.chunk === true, progress)
    s.tasks.set(key, task)
    client.keys.add(key)
    if (fn.kind === 'source') s.sources.acquire(fn.hash) // released when the task is forgotten
    s.stats.submitted(progress)
    client.heldBytes += args.byteLength
  }

  /**
   * `#resolveFn`, with its key, label and progress row, remembered for the client's next task:
   * the same module export, or a source named by the same hash alone (which the client holds
   * while connected), is the same function. A source sent with its text again is checked again.
   */
  #fnOf(client: ClientSession, fn: WireFnRef): ResolvedFn | undefined {
    const last = client.lastFn
    if (last !== undefined && sameFn(last.ref, fn)) return last
    const ref = this.#resolveFn(client, fn)
    if (ref === undefined) return undefined
    const label = fnLabel(ref)
    const resolved = { ref, key: fnKey(ref), label, progress: this.#s.stats.row(label) }
    client.lastFn = resolved
    return resolved
  }

  /**
   * The function a task names: a module, or a source verified against its hash. A client that
   * sends a source's text holds it while it is connected (it may name it by hash alone later).
   * @throws InvalidTaskError for a source that does not match its hash, or one more distinct
   *   source than `MAX_SOURCES_PER_CLIENT`.
   */
  #resolveFn(client: ClientSession, fn: WireFnRef): FnRef | undefined {
    if (fn.kind === 'module') return fn
    const sources = this.#s.sources
    if (fn.source === undefined || client.sources.has(fn.hash)) return sources.resolve(fn)
    if (client.sources.size >= MAX_SOURCES_PER_CLIENT)
      throw new InvalidTaskError(
        `this connection sent more than ${MAX_SOURCES_PER_CLIENT} distinct function sources ` +
          `(the coordinator holds each until the client disconnects); reuse functions, or ` +
          `connect again`,
      )
    const ref = sources.resolve(fn, true)
    client.sources.add(fn.hash)
    return ref
  }

  #cancel(client: ClientSession, key: string, now: number): void {
    const s = this.#s
    const task = s.tasks.get(key)
    if (!task?.awaited) return // the client has its outcome, or no longer wants one
    const state = task.state
    if (state !== ClientTaskState.PENDING) {
      const view = s.scheduler.task(key)
      if (
        view?.state === 'processing' &&
        view.workerId !== null &&
        !this.#assigns.has(key, view.workerId)
      ) {
        // The client's future is running: the task sees its abort signal, and the future ends as
        // the task does (usually with the AbortedError it throws), not before.
        if (state === ClientTaskState.ABORTING) return
        task.to('abort')
        s.workers.get(view.workerId)?.link.pushItem('cancel', 'keys', key)
        return
      }
    }
    if (!s.scheduler.cancel(key, now)) return
    s.stats.cancelled()
    if (state === ClientTaskState.PENDING) {
      client.link.pushItem('cancelled', 'ids', task.id)
    } else {
      // Running as far as the client knows, but on no worker now (it was to run again).
      const error = new AbortedError(
        'the task was aborted before it could run again (its future was cancelled)',
      )
      client.link.pushItem('errors', 'items', { id: task.id, error: serializeError(error) })
    }
    task.drop()
    s.scheduler.release(key, now)
  }

  /** The task behind a task's executor awaits the future `id`: checked for a cycle. */
  #await(client: ClientSession, id: number): void {
    const key = client.key(id)
    if (!this.#s.tasks.has(key)) return // finished and released: nothing to wait for
    const deadlock = this.#s.nested.awaits(client, key)
    if (deadlock !== undefined) reject(client, id, deadlock)
  }

  #release(client: ClientSession, key: string, now: number): void {
    this.#s.tasks.get(key)?.drop()
    client.keys.delete(key)
    this.#s.scheduler.release(key, now)
  }

  /**
   * The client awaits finished tasks' values (ones it was told are `held`): queued without
   * repeats and answered under the link's backpressure (`GatherQueue`). A gather naming more
   * than `MessageLimits.GATHER_IDS` distinct ids is refused whole: the client is closed with
   * `CloseCode.PROTOCOL` (no real client asks that much at once; answering the rest with an
   * error each would be an amplification of its own). False if it was.
   */
  #gather(client: ClientSession, ids: readonly number[]): boolean {
    const queue = (client.gather ??= new GatherQueue(this.#s, client))
    // The cap holds across frames too: a client that never reads cannot queue without end.
    if (
      queue.size + ids.length > MessageLimits.GATHER_IDS &&
      (queue.size >= MessageLimits.GATHER_IDS ||
        distinctOver(ids, MessageLimits.GATHER_IDS - queue.size))
    ) {
      this.#s.log.warn(
        { client: client.id, ids: ids.length },
        'ProtocolError: gathers named too many ids at once; closing the client',
      )
      this.#s.metrics?.protocolErrors.inc({ reason: 'gather-too-long' })
      client.link.close(
        CloseCode.PROTOCOL,
        `gathers may wait on at most ${MessageLimits.GATHER_IDS} distinct ids at once`,
      )
      return false
    }
    for (const id of ids) if (ownId(client, id)) queue.add(id)
    queue.pump()
    return true
  }

  /** Data from the client goes to a worker's memory; its future finishes as `held`. */
  #scatter(client: ClientSession, item: ScatterItem, now: number): void {
    const s = this.#s
    const key = client.key(item.id)
    if (s.tasks.has(key))
      return reject(
        client,
        item.id,
        new ProtocolError(`scatter id ${item.id} is already in use on this connection`),
      )
    if (client.heldBytes + item.value.byteLength > s.options.maxClientHeldBytes)
      return reject(
        client,
        item.id,
        overHeld(client, item.value.byteLength, s.options.maxClientHeldBytes),
      )
    s.tasks.set(key, ClientTask.scattered(key, client, item.id, detachBytes(item.value)))
    client.keys.add(key)
    s.adoption.scatter(
      {
        key,
        clientId: client.id,
        nbytes: item.value.byteLength,
        ...(item.workers === undefined ? {} : { workers: item.workers }),
      },
      now,
    )
  }
}

/** Whether the wire reference `fn` names the function `ref` already resolved (see `#fnOf`). */
function sameFn(ref: FnRef, fn: WireFnRef): boolean {
  if (fn.kind === 'module')
    return ref.kind === 'module' && ref.url === fn.url && ref.exportName === fn.exportName
  return ref.kind === 'source' && fn.source === undefined && ref.hash === fn.hash
}

/** Whether `id` names one of the client's own tasks: a task's executor's `SELF_ID` does not. */
function ownId(client: ClientSession, id: number): boolean {
  return id !== SELF_ID || client.parent === undefined
}

/** Whether `ids` holds more than `limit` distinct values (stops counting past it). */
function distinctOver(ids: readonly number[], limit: number): boolean {
  const seen = new Set<number>()
  for (const id of ids) if (seen.add(id).size > limit) return true
  return false
}

/** The error of a task or scatter that would take its client past `maxClientHeldBytes`. */
function overHeld(client: ClientSession, adding: number, limit: number): PayloadTooLargeError {
  return new PayloadTooLargeError(
    `this client's live tasks keep ${client.heldBytes} bytes on the coordinator (arguments, and ` +
      `values not yet on a worker) and this adds ${adding}: over maxClientHeldBytes (${limit}). ` +
      'Await or release earlier futures first.',
  )
}

/** A resume claim's token checks out; ids with ':' never do (keys are `<clientId>:<id>`). */
function validResume(clientId: string, token: string, secret: string | undefined): boolean {
  return clientId !== '' && !clientId.includes(':') && checkResumeToken(clientId, token, secret)
}

function reject(client: ClientSession, id: number, error: Error): void {
  client.link.pushItem('errors', 'items', { id, error: serializeError(error) })
}
