// Reads the dashboard's server-sent events from Node (which has no EventSource in v20).
import { request, type IncomingMessage } from 'node:http'

export interface SseEvent {
  event: string
  data: unknown
}

export interface SseReader {
  /** The response's status and content type. */
  readonly status: number
  readonly contentType: string
  /** Every event received so far, in order. */
  readonly events: SseEvent[]
  /** Resolves once `predicate` holds for the events received (checked on each event). */
  until(predicate: (events: SseEvent[]) => boolean, what: string, timeoutMs?: number): Promise<void>
  close(): void
}

/** Opens `GET /api/events` with the token as a bearer header. */
export function openEvents(httpUrl: string, token: string | undefined): Promise<SseReader> {
  return new Promise((resolve, reject) => {
    const req = request(`${httpUrl}/api/events`, {
      headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
    })
    req.on('error', reject)
    req.on('response', (res: IncomingMessage) => {
      const events: SseEvent[] = []
      const waiters = new Set<() => void>()
      let buffer = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => {
        buffer += chunk
        let end
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end)
          buffer = buffer.slice(end + 2)
          let event = 'message'
          const data: string[] = []
          for (const line of block.split('\n')) {
            if (line.startsWith('event: ')) event = line.slice(7)
            else if (line.startsWith('data: ')) data.push(line.slice(6))
          }
          if (data.length > 0) events.push({ event, data: JSON.parse(data.join('\n')) })
        }
        for (const w of [...waiters]) w()
      })
      res.on('error', () => {})
      resolve({
        status: res.statusCode ?? 0,
        contentType: String(res.headers['content-type'] ?? ''),
        events,
        until(predicate, what, timeoutMs = 30_000) {
          if (predicate(events)) return Promise.resolve()
          return new Promise<void>((ok, fail) => {
            const timer = setTimeout(() => {
              waiters.delete(check)
              fail(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`))
            }, timeoutMs)
            const check = (): void => {
              if (!predicate(events)) return
              clearTimeout(timer)
              waiters.delete(check)
              ok()
            }
            waiters.add(check)
          })
        },
        close() {
          req.destroy()
        },
      })
    })
    req.end()
  })
}
