import { InvalidOptionError, checkMs } from '@clusterpool/protocol'

/** How a coordinator listens, authenticates and treats its peers. */
export interface CoordinatorOptions {
  /** Interface to bind. Default `127.0.0.1`; anything else needs a `token` or `insecure`. */
  host?: string
  /** TCP port for WebSocket and HTTP. Default 8786; 0 picks a free one. */
  port?: number
  /**
   * Shared secret that clients, workers and dashboard users present. Default: none (loopback
   * only). At least 8 characters. Each role's own token below, when set, replaces it for that role.
   */
  token?: string
  /**
   * The secret workers present; a client presenting it is refused. Default: `token`. Give workers
   * this one and clients `clientToken`, so that a client credential cannot register a worker
   * (and be sent other clients' tasks) and a worker's cannot submit code to the cluster.
   */
  workerToken?: string
  /**
   * The secret clients present; a worker presenting it is refused. The dashboard and the HTTP
   * endpoints take it too (and `token`, when that is set as well). Default: `token`.
   */
  clientToken?: string
  /** Allow a non-loopback `host` without a token (loudly warned). Default false. */
  insecure?: boolean
  /** PEM certificate and key: serve wss:// and https://. Default: plain ws:// and http://. */
  tls?: { cert: string | Buffer; key: string | Buffer }
  /** Largest frame a peer may send, in bytes. Default 64 MiB. */
  maxPayload?: number
  /** How often workers send heartbeats. Milliseconds; default 1000. */
  heartbeatIntervalMs?: number
  /** A worker silent this long is removed and its tasks rescheduled. Milliseconds; default 10000. */
  workerTimeoutMs?: number
  /** A task whose worker died this many times while it ran fails with KilledWorkerError. Default 3. */
  allowedFailures?: number
  /**
   * Results up to this size travel with their completion message: the coordinator keeps them
   * and pushes them to the owning client at once. Larger results stay in the memory of the worker
   * that computed them until a client awaits them (then they are relayed) or a dependent runs
   * (preferably on that worker). Bytes; default 65536 (64 KiB); 0 keeps every result on its worker.
   */
  holdResultsOverBytes?: number
  /**
   * The most bytes the coordinator keeps for one client's live tasks: their arguments (kept
   * until the task is released, to run it again after a failure), their inline results, and
   * scattered values not yet stored on a worker. A task or scatter that would go past it fails
   * at once with `PayloadTooLargeError`; the client's other tasks, and other clients, are not
   * affected. Bytes; default 1 GiB.
   */
  maxClientHeldBytes?: number
  /**
   * Most tasks one task submitted by a client may have below it, all generations together
   * (tasks submitted through `currentTask().executor`). A submit past it fails with
   * `DescendantLimitError`, so a recursion that never ends stops there and the cluster goes on.
   * Default 100000.
   */
  maxDescendants?: number
  /** How often the scheduler rebalances (work stealing). Milliseconds; default 100. */
  tickIntervalMs?: number
  /**
   * The grace period of a restart. What a reconnecting worker kept through an outage (its
   * inventory: tasks, their reports, held values) waits this long for a client to claim it
   * (resubmit the task, or name the held value); then the worker is told to drop it. For as long
   * after the coordinator starts, a resuming client's tasks wait until as many workers are back
   * as it knew (one of them may have them), and a held value it claims waits for the inventory
   * of the worker that has it; then the tasks run anew and the value is lost (`DataLostError`).
   * Milliseconds; default 10000.
   */
  resumeGraceMs?: number
  /** Log level for the coordinator's pino logger. Default `info`; `silent` turns it off. */
  logLevel?: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent'
}

/** The options with their defaults: `workerToken` and `clientToken` fall back to `token`. */
export type ResolvedCoordinatorOptions = Required<
  Omit<CoordinatorOptions, 'token' | 'workerToken' | 'clientToken' | 'tls'>
> &
  Pick<CoordinatorOptions, 'token' | 'workerToken' | 'clientToken' | 'tls'>

export const COORDINATOR_DEFAULTS = Object.freeze({
  host: '127.0.0.1',
  port: 8786,
  insecure: false,
  maxPayload: 64 * 1024 * 1024,
  heartbeatIntervalMs: 1000,
  workerTimeoutMs: 10_000,
  allowedFailures: 3,
  holdResultsOverBytes: 64 * 1024,
  maxClientHeldBytes: 2 ** 30,
  maxDescendants: 100_000,
  tickIntervalMs: 100,
  resumeGraceMs: 10_000,
  logLevel: 'info',
} as const satisfies Partial<CoordinatorOptions>)

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1', '[::1]'])

/** True for addresses only this host can reach. */
export function isLoopback(host: string): boolean {
  return LOOPBACK.has(host) || host.startsWith('127.')
}

/** Validates once, naming the option; applies the defaults. */
export function resolveCoordinatorOptions(
  options: CoordinatorOptions = {},
): ResolvedCoordinatorOptions {
  const o = { ...COORDINATOR_DEFAULTS, ...stripUndefined(options) }
  if (typeof o.host !== 'string' || o.host === '')
    throw new InvalidOptionError('options.host must be a non-empty string')
  if (!Number.isInteger(o.port) || o.port < 0 || o.port > 65535) {
    throw new InvalidOptionError(
      `options.port must be an integer from 0 to 65535, got ${String(o.port)}`,
    )
  }
  for (const key of ['token', 'workerToken', 'clientToken'] as const) {
    const v = o[key]
    if (v !== undefined && (typeof v !== 'string' || v.length < 8)) {
      throw new InvalidOptionError(`options.${key} must be a string of at least 8 characters`)
    }
  }
  const workerToken = o.workerToken ?? o.token
  const clientToken = o.clientToken ?? o.token
  if ((o.workerToken !== undefined || o.clientToken !== undefined) && workerToken === clientToken) {
    throw new InvalidOptionError(
      'options.workerToken and options.clientToken (or options.token, which stands in for the one ' +
        'not set) are the same secret: give each role its own, or set only options.token',
    )
  }
  if (
    !isLoopback(o.host) &&
    (workerToken === undefined || clientToken === undefined) &&
    !o.insecure
  ) {
    throw new InvalidOptionError(
      `options.host is ${o.host}, which other machines can reach, and no token is set` +
        `${workerToken === clientToken ? '' : ` for ${workerToken === undefined ? 'workers' : 'clients'}`}: ` +
        'anyone who can connect could run code on your workers. Set options.token (--token), or ' +
        'pass options.insecure (--insecure) on a network you trust.',
    )
  }
  if (typeof o.maxPayload !== 'number' || !(o.maxPayload > 0)) {
    throw new InvalidOptionError(
      `options.maxPayload must be a positive number of bytes, got ${String(o.maxPayload)}`,
    )
  }
  for (const key of [
    'heartbeatIntervalMs',
    'workerTimeoutMs',
    'tickIntervalMs',
    'resumeGraceMs',
  ] as const) {
    checkMs(o[key], `options.${key}`, { allowInfinity: true })
  }
  if (!Number.isInteger(o.allowedFailures) || o.allowedFailures < 1) {
    throw new InvalidOptionError(
      `options.allowedFailures must be a positive integer, got ${String(o.allowedFailures)}`,
    )
  }
  if (
    typeof o.holdResultsOverBytes !== 'number' ||
    !Number.isInteger(o.holdResultsOverBytes) ||
    o.holdResultsOverBytes < 0
  ) {
    throw new InvalidOptionError(
      `options.holdResultsOverBytes must be an integer >= 0 (bytes), got ${String(o.holdResultsOverBytes)}`,
    )
  }
  if (!Number.isInteger(o.maxClientHeldBytes) || o.maxClientHeldBytes < 1) {
    throw new InvalidOptionError(
      `options.maxClientHeldBytes must be a positive integer (bytes), got ${String(o.maxClientHeldBytes)}`,
    )
  }
  if (!Number.isSafeInteger(o.maxDescendants) || o.maxDescendants < 0) {
    throw new InvalidOptionError(
      `options.maxDescendants must be a non-negative integer, got ${String(o.maxDescendants)}`,
    )
  }
  if (o.tls !== undefined && (o.tls.cert === undefined || o.tls.key === undefined)) {
    throw new InvalidOptionError('options.tls needs both cert and key')
  }
  return {
    ...o,
    ...(workerToken === undefined ? {} : { workerToken }),
    ...(clientToken === undefined ? {} : { clientToken }),
  }
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>
}
