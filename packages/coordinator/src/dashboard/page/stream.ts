/**
 * The task stream (served as `/dashboard-stream.js`): a canvas with one row per process slot
 * of each worker and one bar per task, coloured by function, errors in red, over the last
 * minute. Bars arrive already sampled by the coordinator; here they are placed on slot rows
 * greedily: each bar goes to the slot that freed up last before it started (best fit), or,
 * if none is free (clock jitter, sampling), to the one that frees up first.
 *
 * Plain browser JavaScript kept as a string: no backtick, no dollar-brace.
 */
export const STREAM_JS = String.raw`
import { ERROR_COLOR, colorFor, fmtDuration } from './dashboard-format.js'

/** Bars kept in memory at most (the oldest go first). */
const MAX_BARS = 30000
/** Jitter allowed between one task's end and the next one's start on the same slot. */
const SLOT_TOLERANCE_MS = 15
const LABEL_W = 132
const AXIS_H = 22

export class TaskStream {
  constructor(canvas, tooltip, windowMs) {
    this.canvas = canvas
    this.tooltip = tooltip
    this.windowMs = windowMs
    this.bars = []
    this.slots = new Map()
    this.workers = []
    this.offset = 0
    this.layout = { rows: [], rowH: 14, top: 0 }
    this.dirty = true
    this.lastDraw = 0
    canvas.addEventListener('mousemove', (e) => this.hover(e))
    canvas.addEventListener('mouseleave', () => { this.tooltip.hidden = true })
    const loop = (ts) => {
      if (ts - this.lastDraw > 100) {
        this.lastDraw = ts
        this.draw()
      }
      requestAnimationFrame(loop)
    }
    requestAnimationFrame(loop)
  }

  /** The server's clock: bar times are on it. */
  now() {
    return Date.now() + this.offset
  }

  setWorkers(workers) {
    this.workers = workers
  }

  /** Adds the bars of one update (times relative to the update's t). */
  add(stream, t) {
    for (const b of stream.bars) {
      const s = t + b[2]
      const e = t + b[3]
      const slot = this.place(b[1], s, e)
      this.bars.push({ fn: stream.fns[b[0]], w: b[1], s, e, ok: b[4] === 1, slot })
    }
    const cutoff = this.now() - this.windowMs
    if (this.bars.length > MAX_BARS || (this.bars.length > 0 && this.bars[0].e < cutoff)) {
      this.bars = this.bars.filter((b) => b.e >= cutoff)
      if (this.bars.length > MAX_BARS) this.bars = this.bars.slice(this.bars.length - MAX_BARS)
    }
    this.canvas.dataset.bars = String(this.bars.length)
  }

  place(workerId, s, e) {
    const w = this.workers.find((x) => x.id === workerId)
    const procs = w ? Math.max(1, w.procs) : 1
    let ends = this.slots.get(workerId)
    if (!ends || ends.length !== procs) {
      ends = Array.from({ length: procs }, (_, i) => (ends && ends[i]) || 0)
      this.slots.set(workerId, ends)
    }
    let best = -1
    for (let i = 0; i < ends.length; i++) {
      if (ends[i] <= s + SLOT_TOLERANCE_MS && (best < 0 || ends[i] > ends[best])) best = i
    }
    if (best < 0) {
      best = 0
      for (let i = 1; i < ends.length; i++) if (ends[i] < ends[best]) best = i
    }
    ends[best] = Math.max(ends[best], e)
    return best
  }

  computeLayout(width) {
    const rows = []
    for (const w of this.workers) {
      for (let i = 0; i < Math.max(1, w.procs); i++) rows.push({ worker: w, slot: i })
    }
    const rowH = rows.length === 0 ? 24 : Math.max(3, Math.min(32, Math.floor(420 / rows.length)))
    const index = new Map()
    rows.forEach((r, i) => index.set(r.worker.id + '/' + r.slot, i))
    const height = Math.max(80, rows.length * rowH + AXIS_H + 6)
    return { rows, rowH, index, width, height, plotX: LABEL_W, plotW: Math.max(50, width - LABEL_W - 8) }
  }

  draw() {
    const canvas = this.canvas
    const width = canvas.parentElement.clientWidth
    const L = this.computeLayout(width)
    this.layout = L
    const dpr = window.devicePixelRatio || 1
    if (canvas.width !== Math.round(width * dpr) || canvas.height !== Math.round(L.height * dpr)) {
      canvas.width = Math.round(width * dpr)
      canvas.height = Math.round(L.height * dpr)
      canvas.style.width = width + 'px'
      canvas.style.height = L.height + 'px'
    }
    const ctx = canvas.getContext('2d')
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0)
    ctx.clearRect(0, 0, width, L.height)
    const now = this.now()
    const t0 = now - this.windowMs
    const xOf = (t) => L.plotX + ((t - t0) / this.windowMs) * L.plotW

    // Worker bands and labels.
    ctx.font = '12px system-ui, -apple-system, Segoe UI, sans-serif'
    ctx.textBaseline = 'middle'
    let y = 0
    let band = 0
    for (const w of this.workers) {
      const h = Math.max(1, w.procs) * L.rowH
      ctx.fillStyle = band % 2 === 0 ? '#f6f8fa' : '#ffffff'
      ctx.fillRect(0, y, width, h)
      ctx.fillStyle = '#3d4852'
      ctx.textAlign = 'left'
      if (L.rowH * Math.max(1, w.procs) >= 12) {
        const label = w.name.length > 18 ? w.name.slice(0, 17) + '…' : w.name
        ctx.fillText(label, 8, y + h / 2)
      }
      y += h
      band++
    }
    if (this.workers.length === 0) {
      ctx.fillStyle = '#8a94a0'
      ctx.textAlign = 'center'
      ctx.fillText('no workers connected', width / 2, 30)
    }

    // Time grid: a line every 10 s, labelled in seconds before now.
    const gridTop = 0
    const gridBottom = L.rows.length * L.rowH
    ctx.strokeStyle = '#e3e8ee'
    ctx.fillStyle = '#6b7785'
    ctx.textAlign = 'center'
    ctx.lineWidth = 1
    for (let s = 0; s <= this.windowMs / 1000; s += 10) {
      const x = Math.round(xOf(now - s * 1000)) + 0.5
      ctx.beginPath()
      ctx.moveTo(x, gridTop)
      ctx.lineTo(x, gridBottom)
      ctx.stroke()
      ctx.fillText(s === 0 ? 'now' : '-' + s + ' s', Math.min(x, width - 16), gridBottom + AXIS_H / 2 + 2)
    }

    // Bars.
    let drawn = 0
    const pad = L.rowH >= 8 ? 1.5 : 0.5
    for (const b of this.bars) {
      if (b.e < t0) continue
      const row = L.index.get(b.w + '/' + b.slot)
      if (row === undefined) continue
      const x0 = Math.max(L.plotX, xOf(b.s))
      const x1 = Math.min(L.plotX + L.plotW, xOf(b.e))
      if (x1 < L.plotX) continue
      ctx.fillStyle = b.ok ? colorFor(b.fn) : ERROR_COLOR
      ctx.fillRect(x0, row * L.rowH + pad, Math.max(1.5, x1 - x0), L.rowH - 2 * pad)
      drawn++
    }
    canvas.dataset.drawn = String(drawn)
  }

  hover(e) {
    const L = this.layout
    const rect = this.canvas.getBoundingClientRect()
    const x = e.clientX - rect.left
    const y = e.clientY - rect.top
    const row = Math.floor(y / L.rowH)
    const r = L.rows && L.rows[row]
    if (!r || x < L.plotX) {
      this.tooltip.hidden = true
      return
    }
    const t = this.now() - this.windowMs + ((x - L.plotX) / L.plotW) * this.windowMs
    const slack = (3 / L.plotW) * this.windowMs
    let hit
    for (let i = this.bars.length - 1; i >= 0; i--) {
      const b = this.bars[i]
      if (b.w === r.worker.id && b.slot === r.slot && b.s - slack <= t && t <= b.e + slack) {
        hit = b
        break
      }
    }
    if (!hit) {
      this.tooltip.hidden = true
      return
    }
    this.tooltip.textContent = hit.fn + ' on ' + r.worker.name + ' · ' + fmtDuration(hit.e - hit.s) + (hit.ok ? '' : ' · failed')
    this.tooltip.style.left = Math.min(x + 12, rect.width - 220) + 'px'
    this.tooltip.style.top = y + 14 + 'px'
    this.tooltip.hidden = false
  }
}
`
