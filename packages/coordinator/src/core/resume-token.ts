import { createHmac, timingSafeEqual } from 'node:crypto'

/** The key without a client token: anyone who reaches such a coordinator may run code anyway. */
const NO_TOKEN_KEY = 'clusterpool:no-token'

/**
 * The proof a client shows to take back its id after a reconnect: an HMAC-SHA256 of the id under
 * the client token (`clientToken`, else `token`). A restarted coordinator given the same token
 * checks it without having kept anything, and a client cannot forge another's: it would need the
 * token's HMAC of that id, which only the coordinator computes. Base64url.
 */
export function resumeToken(clientId: string, secret: string | undefined): string {
  return createHmac('sha256', secret ?? NO_TOKEN_KEY)
    .update(`clusterpool-resume:${clientId}`)
    .digest('base64url')
}

/** Whether `token` proves `clientId` (compared in constant time). */
export function checkResumeToken(
  clientId: string,
  token: string,
  secret: string | undefined,
): boolean {
  const want = Buffer.from(resumeToken(clientId, secret))
  const got = Buffer.from(token)
  return got.length === want.length && timingSafeEqual(got, want)
}
