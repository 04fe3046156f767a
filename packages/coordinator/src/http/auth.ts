import { createHash, timingSafeEqual } from 'node:crypto'
import type { IncomingMessage } from 'node:http'

/** Name of the dashboard's session cookie (HttpOnly; holds a hash of the token, never the token). */
export const SESSION_COOKIE = 'clusterpool_session'

/**
 * Checks tokens in constant time. With no token configured every request passes (the
 * coordinator then listens on loopback only, unless started with `insecure`).
 */
export class Authenticator {
  readonly #expected: Buffer | undefined
  readonly #session: string | undefined

  constructor(token: string | undefined) {
    this.#expected = token === undefined ? undefined : digest(token)
    this.#session =
      token === undefined ? undefined : digest(`session:${token}`).toString('base64url')
  }

  get required(): boolean {
    return this.#expected !== undefined
  }

  /** True if `presented` is the token. */
  check(presented: string | undefined | null): boolean {
    if (this.#expected === undefined) return true
    if (typeof presented !== 'string') return false
    return timingSafeEqual(digest(presented), this.#expected)
  }

  /** The token from `Authorization: Bearer …`, the `token` query parameter, or the session cookie. */
  authorize(req: IncomingMessage): boolean {
    if (this.#expected === undefined) return true
    const header = req.headers.authorization
    if (header?.startsWith('Bearer ') && this.check(header.slice(7))) return true
    const url = new URL(req.url ?? '/', 'http://x')
    const query = url.searchParams.get('token')
    if (query !== null && this.check(query)) return true
    const cookie = parseCookies(req.headers.cookie)[SESSION_COOKIE]
    return cookie !== undefined && this.#session !== undefined && safeEqual(cookie, this.#session)
  }

  /** The `Set-Cookie` value that logs a browser in after it presented `?token=`. */
  sessionCookie(secure: boolean): string | undefined {
    if (this.#session === undefined) return undefined
    return `${SESSION_COOKIE}=${this.#session}; HttpOnly; SameSite=Strict; Path=/${secure ? '; Secure' : ''}`
  }
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
