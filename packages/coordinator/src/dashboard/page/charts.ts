/**
 * The charts over time (served as `/dashboard-charts.js`): throughput, queue length and mean
 * occupancy, drawn with uPlot (loaded before this module as `/vendor/uplot.iife.min.js`).
 *
 * Plain browser JavaScript kept as a string: no backtick, no dollar-brace.
 */
export const CHARTS_JS = String.raw`
import { fmtDuration, fmtRate } from './dashboard-format.js'

const uPlot = globalThis.uPlot
const HEIGHT = 120
/** Tick spacings for the time axis, in seconds: never below a second. */
const TIME_INCRS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 1800, 3600]
const clock = (s) => new Date(s * 1000).toLocaleTimeString(undefined, { hour12: false })

/** Each chart: its element id and series (t is in seconds for uPlot; values from DashPoint). */
const CHARTS = [
  {
    id: 'chart-throughput',
    series: [{ label: 'tasks/s', unit: ' tasks/s', key: 'throughput', stroke: '#4e79a7', fill: 'rgba(78,121,167,0.15)' }],
    fmt: (v) => fmtRate(v),
  },
  {
    id: 'chart-queue',
    series: [
      { label: 'queued', key: 'queued', stroke: '#f28e2b', fill: 'rgba(242,142,43,0.12)' },
      { label: 'running', key: 'running', stroke: '#59a14f' },
    ],
    fmt: (v) => (v === null || v === undefined ? '–' : String(Math.round(v))),
  },
  {
    id: 'chart-occupancy',
    series: [{ label: 'occupancy / proc', unit: '', key: 'occupancyMs', stroke: '#b07aa1', fill: 'rgba(176,122,161,0.15)' }],
    fmt: (v) => fmtDuration(v),
  },
]

export class Charts {
  constructor(windowMs) {
    this.windowMs = windowMs
    this.points = []
    this.plots = []
    if (typeof uPlot !== 'function') {
      for (const c of CHARTS) document.getElementById(c.id).textContent = 'uPlot did not load'
      return
    }
    for (const c of CHARTS) {
      const host = document.getElementById(c.id)
      const opts = {
        width: Math.max(200, host.clientWidth),
        height: HEIGHT,
        padding: [8, 28, 0, 0],
        cursor: { drag: { x: false, y: false } },
        // The headings show the latest values; only a chart with several series needs a key.
        legend: { show: c.series.length > 1, live: false },
        scales: { x: { time: true }, y: { range: (u, min, max) => [0, max > 0 ? max * 1.1 : 1] } },
        axes: [
          {
            stroke: '#6b7785',
            grid: { stroke: '#eef1f4' },
            ticks: { stroke: '#e3e8ee' },
            space: 70,
            incrs: TIME_INCRS,
            values: (u, splits) => splits.map(clock),
          },
          {
            stroke: '#6b7785',
            grid: { stroke: '#eef1f4' },
            ticks: { stroke: '#e3e8ee' },
            size: 64,
            values: (u, splits) => splits.map((v) => c.fmt(v)),
          },
        ],
        series: [
          { value: (u, v) => (v === null || v === undefined ? '–' : clock(v)) },
          ...c.series.map((s) => ({
            label: s.label,
            stroke: s.stroke,
            fill: s.fill,
            width: 1.75,
            points: { show: false },
            spanGaps: false,
            value: (u, v) => c.fmt(v),
          })),
        ],
      }
      const plot = new uPlot(opts, this.data(c), host)
      this.plots.push({ c, plot, host })
    }
    const resize = () => {
      for (const p of this.plots) p.plot.setSize({ width: Math.max(200, p.host.clientWidth), height: HEIGHT })
    }
    if (typeof ResizeObserver === 'function') {
      const ro = new ResizeObserver(resize)
      for (const p of this.plots) ro.observe(p.host)
    } else {
      window.addEventListener('resize', resize)
    }
  }

  data(c) {
    const xs = this.points.map((p) => p.t / 1000)
    return [xs, ...c.series.map((s) => this.points.map((p) => p[s.key]))]
  }

  /** Replaces the history (on hello). */
  reset(points) {
    this.points = points.slice()
    this.render()
  }

  /** Appends the points of one update, keeping the chart window. */
  push(points) {
    if (points.length === 0) return
    for (const p of points) this.points.push(p)
    const last = this.points[this.points.length - 1].t
    let i = 0
    while (i < this.points.length && this.points[i].t < last - this.windowMs) i++
    if (i > 0) this.points.splice(0, i)
    this.render()
  }

  render() {
    for (const p of this.plots) p.plot.setData(this.data(p.c))
    const last = this.points[this.points.length - 1]
    for (const c of CHARTS) {
      const out = document.getElementById(c.id + '-now')
      if (!out) continue
      out.textContent = last ? c.series.map((s) => c.fmt(last[s.key]) + (s.unit === undefined ? ' ' + s.label : s.unit)).join(' · ') : ''
    }
  }
}
`
