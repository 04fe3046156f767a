// The seed's I/O-bound experiment: load URLs on a thread pool and report each as it completes,
// against a local HTTP server this example starts (some pages slow, one 403, one unreachable).
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'

import { ThreadPoolExecutor, asCompleted, type Executor, type Future } from 'clusterpool'

/** Fetches a URL and returns its body length; a non-2xx status is an error. */
const loadUrl = async (url: string, timeoutMs: number): Promise<number> => {
  const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) })
  if (!res.ok) throw new Error(`HTTP ${res.status} ${res.statusText}`)
  return (await res.arrayBuffer()).byteLength
}

function startServer(): Promise<Server> {
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost')
    const delay = Number(url.searchParams.get('delay') ?? 0)
    const size = Number(url.searchParams.get('size') ?? 1000)
    setTimeout(() => {
      if (url.pathname === '/forbidden') {
        res.writeHead(403).end('forbidden')
        return
      }
      res.writeHead(200, { 'content-type': 'text/html' }).end('x'.repeat(size))
    }, delay)
  })
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)))
}

export async function urlLoaderDemo(executor?: Executor): Promise<void> {
  const server = await startServer()
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  const urls = [
    `${base}/news?delay=300&size=48211`,
    `${base}/weather?delay=50&size=5120`,
    `${base}/slow-archive?delay=800&size=230411`,
    `${base}/forbidden?delay=100`,
    `${base}/about?delay=10&size=812`,
    'http://127.0.0.1:9/unreachable',
  ]
  console.log(
    `url loader: 6 URLs on ${executor ? 'the cluster' : 'ThreadPoolExecutor(5)'}, printed as they complete`,
  )
  const own = executor ? undefined : new ThreadPoolExecutor({ maxWorkers: 5 })
  const ex = executor ?? own!
  try {
    const futures = new Map<Future<number>, string>(
      urls.map((u) => [ex.submit(loadUrl, u, 5000), u]),
    )
    // asCompleted yields the futures themselves, as in Python. TypeScript types a for-await
    // element by awaiting it, so it reads each as a number: cast it back to its Future.
    for await (const done of asCompleted(futures.keys())) {
      const f = done as unknown as Future<number>
      const url = futures.get(f)!
      const error = await f.exception()
      if (error) console.log(`${url} generated an exception: ${error.message}`)
      else console.log(`${url} page is ${await f.result()} bytes`)
    }
  } finally {
    await own?.shutdown()
    server.close()
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await urlLoaderDemo()
