import { createHash, timingSafeEqual } from 'node:crypto'
import type { IncomingMessage } from 'node:http'

/** Name of the dashboard's session cookie (HttpOnly; holds a hash of the token, never the token). */
export const SESSION_COOKIE = 'clusterpool_session'

/** The roles a WebSocket peer may take once it says its `hello`. */
export interface Admitted {
  readonly client: boolean
  readonly worker: boolean
}

/** The secrets each role presents, as `resolveCoordinatorOptions` resolves them. */
export interface Credentials {
  /** The shared token; also taken by the dashboard and the HTTP endpoints when set. */
  readonly token?: string | undefined
  readonly workerToken?: string | undefined
  readonly clientToken?: string | undefined
}

/**
 * Checks tokens in constant time (SHA-256 digests compared with `timingSafeEqual`, every
 * candidate compared every time). Workers present the worker token and clients the client
 * token; each falls back to the shared token. The dashboard and HTTP endpoints take the client
 * token or the shared one (they show what clients may see, never a worker's powers), and a
 * browser logged in with one of those gets a session cookie that counts as the client token.
 * A role with no token configured is open (the coordinator then listens on loopback only,
 * unless started with `insecure`).
 */
export class Authenticator {
  readonly #worker: Buffer | undefined
  readonly #client: Buffer | undefined
  /** Digests taken by HTTP: the client token's and the shared token's; empty when open. */
  readonly #http: readonly Buffer[]
  readonly #session: string | undefined

  constructor(credentials: Credentials) {
    const worker = credentials.workerToken ?? credentials.token
    const client = credentials.clientToken ?? credentials.token
    this.#worker = worker === undefined ? undefined : digest(worker)
    this.#client = client === undefined ? undefined : digest(client)
    const http = new Set([client, credentials.token].filter((t) => t !== undefined))
    this.#http = client === undefined ? [] : [...http].map(digest)
    this.#session =
      client === undefined ? undefined : digest(`session:${client}`).toString('base64url')
  }

  /** Whether HTTP requests need a token. */
  get required(): boolean {
    return this.#http.length > 0
  }

  /** True if `presented` is a token the HTTP endpoints take. */
  check(presented: string | undefined | null): boolean {
    if (this.#http.length === 0) return true
    if (typeof presented !== 'string') return false
    const d = digest(presented)
    let ok = false
    for (const expected of this.#http) ok = timingSafeEqual(d, expected) || ok
    return ok
  }

  /** HTTP: the token from `Authorization: Bearer …`, the `token` query parameter, or the session cookie. */
  authorize(req: IncomingMessage): boolean {
    if (this.#http.length === 0) return true
    for (const presented of presentedTokens(req)) if (this.check(presented)) return true
    return this.#hasSession(req)
  }

  /**
   * WebSocket upgrade: the roles the request's token admits (`Bearer`, `?token=`; the session
   * cookie admits a client). Neither means refuse the upgrade.
   */
  admit(req: IncomingMessage): Admitted {
    const presented = presentedTokens(req).map(digest)
    const matches = (expected: Buffer | undefined): boolean => {
      if (expected === undefined) return true
      let ok = false
      for (const d of presented) ok = timingSafeEqual(d, expected) || ok
      return ok
    }
    const worker = matches(this.#worker)
    const client = matches(this.#client) || this.#hasSession(req)
    return { client, worker }
  }

  /** The `Set-Cookie` value that logs a browser in after it presented `?token=`. */
  sessionCookie(secure: boolean): string | undefined {
    if (this.#session === undefined) return undefined
    return `${SESSION_COOKIE}=${this.#session}; HttpOnly; SameSite=Strict; Path=/${secure ? '; Secure' : ''}`
  }

  #hasSession(req: IncomingMessage): boolean {
    const cookie = parseCookies(req.headers.cookie)[SESSION_COOKIE]
    return cookie !== undefined && this.#session !== undefined && safeEqual(cookie, this.#session)
  }
}

/** The tokens of `Authorization: Bearer …` and of the `token` query parameter, if any. */
function presentedTokens(req: IncomingMessage): string[] {
  const out: string[] = []
  const header = req.headers.authorization
  if (header?.startsWith('Bearer ')) out.push(header.slice(7))
  const query = new URL(req.url ?? '/', 'http://x').searchParams.get('token')
  if (query !== null) out.push(query)
  return out
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest()
}

function safeEqual(a: string, b: string): boolean {
  return timingSafeEqual(digest(a), digest(b))
}

function parseCookies(header: string | undefined): Record<string, string> {
  const out: Record<string, string> = {}
  if (!header) return out
  for (const part of header.split(';')) {
    const eq = part.indexOf('=')
    if (eq > 0) out[part.slice(0, eq).trim()] = part.slice(eq + 1).trim()
  }
  return out
}
