import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { gzipSync } from 'node:zlib'

import { CHARTS_JS } from './page/charts.js'
import { FORMAT_JS } from './page/format.js'
import { INDEX_HTML } from './page/html.js'
import { MAIN_JS } from './page/main.js'
import { STREAM_JS } from './page/stream.js'
import { STYLE_CSS } from './page/style.js'

/** A file the dashboard serves, built on first request and kept. */
interface Asset {
  readonly type: string
  readonly body: Buffer
  readonly gzipped: Buffer
  readonly etag: string
  readonly cacheControl: string
}

const JS = 'text/javascript; charset=utf-8'
const CSS = 'text/css; charset=utf-8'
const HTML = 'text/html; charset=utf-8'

/** Our own files change with the coordinator: always revalidate (cheap, with the ETag). */
const REVALIDATE = 'no-cache'
/** uPlot's files change only with its version, which is in their ETag. */
const VENDOR = 'private, max-age=86400'

/** Path → how to produce it. uPlot comes from the `uplot` package's `dist` folder. */
const SOURCES: Readonly<Record<string, () => Omit<Asset, 'gzipped' | 'etag'>>> = {
  '/': () => ({ type: HTML, body: Buffer.from(INDEX_HTML), cacheControl: REVALIDATE }),
  '/dashboard.css': () => ({ type: CSS, body: Buffer.from(STYLE_CSS), cacheControl: REVALIDATE }),
  '/dashboard.js': () => ({ type: JS, body: Buffer.from(MAIN_JS), cacheControl: REVALIDATE }),
  '/dashboard-stream.js': () => ({
    type: JS,
    body: Buffer.from(STREAM_JS),
    cacheControl: REVALIDATE,
  }),
  '/dashboard-charts.js': () => ({
    type: JS,
    body: Buffer.from(CHARTS_JS),
    cacheControl: REVALIDATE,
  }),
  '/dashboard-format.js': () => ({
    type: JS,
    body: Buffer.from(FORMAT_JS),
    cacheControl: REVALIDATE,
  }),
  '/vendor/uplot.iife.min.js': () => ({
    type: JS,
    body: readFileSync(join(uplotDist(), 'uPlot.iife.min.js')),
    cacheControl: VENDOR,
  }),
  '/vendor/uplot.min.css': () => ({
    type: CSS,
    body: readFileSync(join(uplotDist(), 'uPlot.min.css')),
    cacheControl: VENDOR,
  }),
}

const cache = new Map<string, Asset>()

/** The paths served as static files. */
export const ASSET_PATHS: readonly string[] = [...Object.keys(SOURCES), '/index.html']

/**
 * Serves `pathname` if it is one of the dashboard's files; returns false otherwise. Answers
 * `If-None-Match` with 304 and compresses for browsers that accept gzip.
 */
export function serveAsset(req: IncomingMessage, res: ServerResponse, pathname: string): boolean {
  const asset = load(pathname === '/index.html' ? '/' : pathname)
  if (!asset) return false
  const headers: Record<string, string> = {
    'content-type': asset.type,
    'cache-control': asset.cacheControl,
    etag: asset.etag,
    vary: 'accept-encoding',
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
  }
  if (asset.type === HTML) {
    headers['content-security-policy'] =
      "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; " +
      "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
    headers['x-frame-options'] = 'DENY'
  }
  if (req.headers['if-none-match'] === asset.etag) {
    res.writeHead(304, headers).end()
    return true
  }
  const gzip = /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''))
  const body = gzip ? asset.gzipped : asset.body
  if (gzip) headers['content-encoding'] = 'gzip'
  headers['content-length'] = String(body.length)
  res.writeHead(200, headers)
  res.end(req.method === 'HEAD' ? undefined : body)
  return true
}

function load(pathname: string): Asset | undefined {
  const known = cache.get(pathname)
  if (known) return known
  const source = Object.hasOwn(SOURCES, pathname) ? SOURCES[pathname] : undefined
  if (!source) return undefined
  const base = source()
  const asset: Asset = {
    ...base,
    gzipped: gzipSync(base.body),
    etag: `"${createHash('sha256').update(base.body).digest('base64url').slice(0, 22)}"`,
  }
  cache.set(pathname, asset)
  return asset
}

function uplotDist(): string {
  return dirname(createRequire(import.meta.url).resolve('uplot'))
}
