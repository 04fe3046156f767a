// bench/throughput.svg, written by hand (no dependency): P2 throughput against N, both axes on a
// log scale. One colour per system; per-task methods (map, submit-all, one message per frame)
// are circles on a full line, batched ones (chunksize 100, 100 items per frame) squares on a
// thinner line; each point is the system's best method of that kind at that N. clusterpool's
// lines are solid, the anchors' dashed.
import type { Measurement } from '../harness/result.js'
import { fmt } from '../harness/result.js'
import { methodClass, shortN, type MethodClass } from './ratios.js'

const COLORS = [
  '#1f77b4',
  '#d62728',
  '#2ca02c',
  '#9467bd',
  '#ff7f0e',
  '#8c564b',
  '#e377c2',
  '#17becf',
  '#7f7f7f',
  '#bcbd22',
  '#000000',
  '#393b79',
]

interface Series {
  readonly system: string
  readonly family: string
  readonly kind: MethodClass
  readonly points: { n: number; v: number; method: string }[]
}

const esc = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')

/** The chart's lines: each system's best figure of each kind at each N. */
export function chartSeries(all: readonly Measurement[]): Series[] {
  const byKey = new Map<string, Series>()
  for (const m of all) {
    if (m.scenario !== 'P2' || m.metric !== 'throughput' || m.n === undefined || !(m.median > 0))
      continue
    const kind = methodClass(m)
    const key = `${m.system}\u0000${kind}`
    let s = byKey.get(key)
    if (!s) {
      s = { system: m.system, family: m.family, kind, points: [] }
      byKey.set(key, s)
    }
    const existing = s.points.find((p) => p.n === m.n)
    if (existing === undefined) s.points.push({ n: m.n, v: m.median, method: m.method })
    else if (m.median > existing.v) Object.assign(existing, { v: m.median, method: m.method })
  }
  const out = [...byKey.values()]
  for (const s of out) s.points.sort((a, b) => a.n - b.n)
  return out.sort((a, b) => (a.family === b.family ? 0 : a.family === 'clusterpool' ? -1 : 1))
}

export function renderThroughputSvg(
  all: readonly Measurement[],
  title: string,
): string | undefined {
  const series = chartSeries(all)
  if (series.length === 0) return undefined
  const systems = [...new Set(series.map((s) => s.system))]
  const colorOf = (system: string): string => COLORS[systems.indexOf(system) % COLORS.length]!
  const legendStep = 30
  const W = 1040
  const left = 80
  const right = 400
  const top = 50
  const bottom = 60
  const H = Math.max(560, top + series.length * legendStep + 20)
  const pw = W - left - right
  const ph = H - top - bottom
  const ns = series.flatMap((s) => s.points.map((p) => p.n))
  const vs = series.flatMap((s) => s.points.map((p) => p.v))
  let x0 = Math.floor(Math.log10(Math.min(...ns)))
  let x1 = Math.ceil(Math.log10(Math.max(...ns)))
  if (x1 === x0) {
    x0 -= 1
    x1 += 1
  }
  const y0 = Math.floor(Math.log10(Math.min(...vs)))
  const y1 = Math.max(y0 + 1, Math.ceil(Math.log10(Math.max(...vs))))
  const x = (n: number): number => left + ((Math.log10(n) - x0) / (x1 - x0)) * pw
  const y = (v: number): number => top + ph - ((Math.log10(v) - y0) / (y1 - y0)) * ph
  const out: string[] = []
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="#fff"/>`,
    `<text x="${left}" y="24" font-size="16" font-weight="bold">${esc(title)}</text>`,
  )
  // Grid and ticks: decades, with minor lines at 2× and 5×.
  for (let e = x0; e <= x1; e++) {
    for (const k of [1, 2, 5]) {
      const n = k * 10 ** e
      if (Math.log10(n) > x1 + 1e-9) continue
      const px = x(n).toFixed(1)
      out.push(
        `<line x1="${px}" y1="${top}" x2="${px}" y2="${top + ph}" stroke="${k === 1 ? '#ccc' : '#eee'}"/>`,
      )
      if (k === 1 || x1 - x0 <= 2) {
        out.push(`<text x="${px}" y="${top + ph + 18}" text-anchor="middle">${shortN(n)}</text>`)
      }
    }
  }
  for (let e = y0; e <= y1; e++) {
    for (const k of [1, 2, 5]) {
      const v = k * 10 ** e
      if (Math.log10(v) > y1 + 1e-9) continue
      const py = y(v).toFixed(1)
      out.push(
        `<line x1="${left}" y1="${py}" x2="${left + pw}" y2="${py}" stroke="${k === 1 ? '#ccc' : '#eee'}"/>`,
      )
      if (k === 1 || y1 - y0 <= 3) {
        out.push(
          `<text x="${left - 8}" y="${py}" text-anchor="end" dominant-baseline="middle">${shortN(v)}</text>`,
        )
      }
    }
  }
  out.push(
    `<rect x="${left}" y="${top}" width="${pw}" height="${ph}" fill="none" stroke="#333"/>`,
    `<text x="${left + pw / 2}" y="${H - 18}" text-anchor="middle">N (no-op tasks per run, log scale)</text>`,
    `<text transform="translate(20 ${top + ph / 2}) rotate(-90)" text-anchor="middle">tasks/s (median, log scale)</text>`,
  )
  series.forEach((s, i) => {
    const color = colorOf(s.system)
    const ours = s.family === 'clusterpool'
    const dash = ours ? '' : ' stroke-dasharray="6 4"'
    const width = (ours ? 2.5 : 1.5) * (s.kind === 'batched' ? 0.6 : 1)
    const marker = (cx: number, cy: number, tip: string): string =>
      s.kind === 'batched'
        ? `<rect x="${(cx - 3.5).toFixed(1)}" y="${(cy - 3.5).toFixed(1)}" width="7" height="7" fill="${color}"><title>${esc(tip)}</title></rect>`
        : `<circle cx="${cx.toFixed(1)}" cy="${cy.toFixed(1)}" r="3.5" fill="${color}"><title>${esc(tip)}</title></circle>`
    const pts = s.points.map((p) => `${x(p.n).toFixed(1)},${y(p.v).toFixed(1)}`).join(' ')
    out.push(
      `<polyline points="${pts}" fill="none" stroke="${color}" stroke-width="${width}"${dash}/>`,
    )
    for (const p of s.points) {
      out.push(
        marker(x(p.n), y(p.v), `${s.system} · ${p.method} · N=${shortN(p.n)}: ${fmt(p.v)} tasks/s`),
      )
    }
    const ly = top + 8 + i * legendStep
    const lx = left + pw + 20
    const methods = [...new Set(s.points.map((p) => p.method))].join(', ')
    out.push(
      `<line x1="${lx}" y1="${ly}" x2="${lx + 28}" y2="${ly}" stroke="${color}" stroke-width="${width}"${dash}/>`,
      marker(lx + 14, ly, s.system),
      `<text x="${lx + 36}" y="${ly + 4}"${ours ? ' font-weight="bold"' : ''}>${esc(s.system)}</text>`,
      `<text x="${lx + 36}" y="${ly + 17}" fill="#666" font-size="11">${esc(`${s.kind}: ${methods}`)}</text>`,
    )
  })
  out.push('</svg>')
  return `${out.join('\n')}\n`
}
