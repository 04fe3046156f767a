import type { IncomingMessage, ServerResponse } from 'node:http'

import type { ClusterStatus } from '../core/status.js'
import type { CoordinatorMetrics } from './metrics.js'

/** Extra pages (the dashboard) plug in here. */
export type PageHandler = (req: IncomingMessage, res: ServerResponse, url: URL) => boolean

/**
 * The coordinator's HTTP API (behind the token, except the probes `/health`, `/healthz`, `/readyz`):
 * - `GET /api/status`: the cluster as JSON (`ClusterStatus`)
 * - `GET /metrics`: Prometheus text format
 */
export function handleHttp(
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  status: () => ClusterStatus,
  metrics: CoordinatorMetrics,
  pages: readonly PageHandler[],
): void {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { allow: 'GET, HEAD' }).end()
    return
  }
  switch (url.pathname) {
    case '/api/status': {
      const body = JSON.stringify(status())
      res
        .writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' })
        .end(body)
      return
    }
    case '/metrics':
      metrics.registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(text),
        () => res.writeHead(500).end(),
      )
      return
  }
  for (const page of pages) if (page(req, res, url)) return
  res.writeHead(404, { 'content-type': 'text/plain' }).end(`not found: ${url.pathname}\n`)
}
