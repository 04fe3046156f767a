// Bench helper processes over IPC (the coordinator's: children/cluster-host.ts) and the
// HTTP endpoints the bench reads on it: P5 and P11 measure a coordinator that shares no process
// with the client or the workers that load it.
import type { ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'

import { killChild, startChild } from '../harness/children.js'
import { errorText, withTimeout } from '../harness/timeout.js'

export const CHILDREN = new URL('../children/', import.meta.url)
export const NODE_ARGS = ['--expose-gc', '--import=tsx']

/** A bench helper process that talks over IPC: started, its first message, and its answers. */
export interface IpcChild {
  readonly child: ChildProcess
  /** Its first message (`{ error }` throws instead). */
  readonly hello: Record<string, unknown>
  /** Sends `{ cmd }` and waits for the next message. */
  ask(cmd: string, what: string): Promise<Record<string, unknown>>
  /** `{ cmd: 'close' }`, then the kill of its process group if it has not exited by `graceMs`. */
  close(graceMs: number): Promise<void>
}

/**
 * Starts `children/<script>` with `args` and an IPC channel, and waits (120 s at most) for its
 * first message; `what` names it in errors, with the tail of the child's stderr.
 */
export async function startIpcChild(
  script: string,
  args: readonly string[],
  what: string,
): Promise<IpcChild> {
  const path = fileURLToPath(new URL(script, CHILDREN))
  const child = startChild(process.execPath, [...NODE_ARGS, path, ...args], {
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
  })
  let stderr = ''
  child.stderr?.setEncoding('utf8').on('data', (c: string) => (stderr = (stderr + c).slice(-2000)))
  const next = async (what: string): Promise<Record<string, unknown>> => {
    const [m] = (await withTimeout(once(child, 'message'), 120_000, what)) as [
      Record<string, unknown>,
    ]
    return m
  }
  let hello: Record<string, unknown>
  try {
    hello = await next(what)
  } catch (error) {
    await killChild(child)
    throw new Error(`${(error as Error).message}; child stderr: ${stderr.trim() || '(empty)'}`)
  }
  if (typeof hello.error === 'string') {
    await killChild(child)
    throw new Error(hello.error)
  }
  return {
    child,
    hello,
    async ask(cmd, what) {
      child.send({ cmd })
      return await next(what)
    },
    async close(graceMs) {
      if (child.connected) child.send({ cmd: 'close' })
      const exited = once(child, 'exit')
      await withTimeout(exited, graceMs, `${script} exit`).catch(() => undefined)
      await killChild(child)
    },
  }
}

/**
 * `GET path` on the coordinator at `url` (its ws:// address), as text; undefined when it does
 * not answer 200 within `STATUS_TIMEOUT_MS`.
 */
export async function coordinatorGet(
  url: string,
  token: string | undefined,
  path: string,
): Promise<string | undefined> {
  try {
    const http = url.replace(/^ws/, 'http').replace(/\/+$/, '')
    const res = await fetch(`${http}${path}`, {
      // A coordinator busy taking in a large batch answers late; a frozen one must not hang the bench.
      signal: AbortSignal.timeout(STATUS_TIMEOUT_MS),
      ...(token === undefined ? {} : { headers: { authorization: `Bearer ${token}` } }),
    })
    return res.ok ? await res.text() : undefined
  } catch {
    return undefined
  }
}

/** The coordinator's /api/status, parsed, or undefined. */
export async function coordinatorStatus(
  url: string,
  token: string | undefined,
): Promise<Record<string, unknown> | undefined> {
  const text = await coordinatorGet(url, token, '/api/status')
  if (text === undefined) return undefined
  try {
    const status = JSON.parse(text) as unknown
    return typeof status === 'object' && status !== null
      ? (status as Record<string, unknown>)
      : undefined
  } catch {
    return undefined
  }
}

/** How long one request to the coordinator may take. Milliseconds. */
const STATUS_TIMEOUT_MS = 10_000

/**
 * Submits per slice before the bench lets its event loop turn. One synchronous loop of 1M
 * submits blocked the client for 9 s on a loaded 2-core machine; then the whole backlog was
 * encoded and sent at once, the client's pong behind it, and the coordinator, seeing no pong for
 * 15 s, dropped the client with all its tasks (log: "client stopped answering pings"). The
 * bench then waited 300 s for a count that could not come, and measured anyway.
 * Slices keep the client answering pings and the coordinator taking tasks in steadily; what is
 * measured, the coordinator's memory once it holds N pending tasks, is the same.
 */
export const SUBMIT_SLICE = 10_000

/** The coordinator's task count may stand still this long before the run is declared stuck. */
export const STALL_LIMIT_MS = 60_000

/**
 * Watches `future`: `error` is set as soon as it settles. With no workers no task can finish, so
 * a settled future means the connection was lost (every pending future rejects then).
 */
export function watchForLoss(future: PromiseLike<unknown>): { error: Error | undefined } {
  const watch: { error: Error | undefined } = { error: undefined }
  future.then(
    () => (watch.error = new Error('a task finished on a coordinator with no workers')),
    (error: unknown) =>
      (watch.error = new Error(
        `the client lost its tasks while the coordinator held them: ${errorText(error)}`,
      )),
  )
  return watch
}
