/**
 * The page's helpers (served as `/dashboard-format.js`): number formats, DOM building and the
 * colour of each function. Plain browser JavaScript kept as a string, so the page needs no build
 * step; it must hold no backtick and no dollar-brace.
 */
export const FORMAT_JS = String.raw`
const PALETTE = [
  '#4e79a7', '#f28e2b', '#59a14f', '#b07aa1', '#76b7b2', '#edc948', '#9c755f', '#86bcb6',
  '#a0cbe8', '#ffbe7d', '#8cd17d', '#d4a6c8', '#bab0ac', '#79706e', '#499894', '#b6992d',
]
export const ERROR_COLOR = '#e03131'
const colors = new Map()

/** A stable colour per function label, in order of first sight (never red: red is for errors). */
export function colorFor(fn) {
  let c = colors.get(fn)
  if (c === undefined) {
    c = PALETTE[colors.size % PALETTE.length]
    colors.set(fn, c)
  }
  return c
}

/** Builds an element: el('td', { class: 'num', title: 'x' }, 'text', child…). Text is never parsed as HTML. */
export function el(tag, attrs, ...children) {
  const node = document.createElement(tag)
  if (attrs) {
    for (const [k, v] of Object.entries(attrs)) {
      if (v === undefined || v === null || v === false) continue
      if (k === 'style') Object.assign(node.style, v)
      else node.setAttribute(k, v === true ? '' : String(v))
    }
  }
  for (const child of children) {
    if (child === undefined || child === null || child === false) continue
    node.append(child instanceof Node ? child : document.createTextNode(String(child)))
  }
  return node
}

/** Sets an element's text only when it changed (keeps the DOM quiet at 2 updates/s). */
export function setText(node, text) {
  const s = String(text)
  if (node.textContent !== s) node.textContent = s
}

export function fmtCount(n) {
  if (n < 1000) return String(n)
  if (n < 1e6) return (n / 1e3).toFixed(n < 1e4 ? 1 : 0) + 'k'
  if (n < 1e9) return (n / 1e6).toFixed(n < 1e7 ? 2 : 1) + 'M'
  return (n / 1e9).toFixed(2) + 'G'
}

export function fmtRate(n) {
  if (n === null || n === undefined) return '–'
  if (n < 10) return n.toFixed(1)
  return fmtCount(Math.round(n))
}

export function fmtBytes(n) {
  if (!n) return '0 B'
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB']
  let i = 0
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024
    i++
  }
  return (i === 0 ? String(n) : n.toFixed(n < 10 ? 1 : 0)) + ' ' + units[i]
}

export function fmtDuration(ms) {
  if (ms === null || ms === undefined) return '–'
  if (ms < 1) return ms > 0 ? '<1 ms' : '0 ms'
  if (ms < 1000) return Math.round(ms) + ' ms'
  if (ms < 60000) return (ms / 1000).toFixed(ms < 10000 ? 2 : 1) + ' s'
  if (ms < 3600000) return Math.floor(ms / 60000) + ' min ' + Math.round((ms % 60000) / 1000) + ' s'
  return Math.floor(ms / 3600000) + ' h ' + Math.round((ms % 3600000) / 60000) + ' min'
}

export function fmtAgo(ms) {
  if (ms < 1000) return 'just now'
  return fmtDuration(ms) + ' ago'
}

export function fmtUptime(s) {
  if (s < 60) return s + ' s'
  if (s < 3600) return Math.floor(s / 60) + ' min'
  if (s < 86400) return Math.floor(s / 3600) + ' h ' + Math.floor((s % 3600) / 60) + ' min'
  return Math.floor(s / 86400) + ' d ' + Math.floor((s % 86400) / 3600) + ' h'
}

export function fmtClock(ms) {
  const d = new Date(ms)
  return d.toLocaleTimeString(undefined, { hour12: false })
}
`
