/**
 * The page's entry module (served as `/dashboard.js`): connects to `api/events` (server-sent
 * events, authenticated by the session cookie), and renders each update into the header, the
 * workers table, the progress bars, the task stream, the charts and the recent errors.
 *
 * Every text from the cluster (names, messages, stacks) goes in through textContent, never as
 * HTML. Plain browser JavaScript kept as a string: no backtick, no dollar-brace.
 */
export const MAIN_JS = String.raw`
import {
  ERROR_COLOR, colorFor, el, setText, fmtAgo, fmtBytes, fmtClock, fmtCount, fmtDuration, fmtRate, fmtUptime,
} from './dashboard-format.js'
import { TaskStream } from './dashboard-stream.js'
import { Charts } from './dashboard-charts.js'

const STREAM_WINDOW_MS = 60000
const HISTORY_MS = 5 * 60000
const MAX_ERRORS = 20
const LATE_HEARTBEAT_MS = 3000

const $ = (id) => document.getElementById(id)
const stream = new TaskStream($('stream'), $('stream-tip'), STREAM_WINDOW_MS)
const charts = new Charts(HISTORY_MS)
const workerRows = new Map()
const fnRows = new Map()
const errorNodes = new Map()
let errors = []
let errorsTouched = false
let received = 0
let updates = 0
let sampleLog = []

// ─── connection ──────────────────────────────────────────────────────────────────────────

function setConn(state) {
  const pill = $('conn')
  pill.className = 'conn conn-' + state
  const text = {
    connecting: 'connecting…',
    live: 'live',
    reconnecting: 'reconnecting…',
    closed: 'disconnected',
  }[state]
  setText($('conn-text'), text)
  $('login-hint').hidden = state !== 'closed'
}

function connect() {
  setConn('connecting')
  const es = new EventSource('api/events')
  es.addEventListener('hello', (ev) => {
    const h = JSON.parse(ev.data)
    charts.reset(h.history)
    errors = h.errors.slice().reverse()
    for (const node of errorNodes.values()) node.remove()
    errorNodes.clear()
    apply(h.update)
    setConn('live')
  })
  es.addEventListener('update', (ev) => {
    apply(JSON.parse(ev.data))
    setConn('live')
  })
  es.onerror = () => {
    if (es.readyState === EventSource.CLOSED) {
      // Refused (a restarted coordinator, an expired session) or gone: retry now and then.
      setConn('closed')
      es.close()
      setTimeout(connect, 5000)
    } else {
      setConn('reconnecting')
    }
  }
}

// ─── one update ─────────────────────────────────────────────────────────────────────────

/** Workers in name order ("local-2" before "local-10"), so rows do not move as they join. */
function byName(a, b) {
  return a.name.localeCompare(b.name, undefined, { numeric: true }) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)
}

function apply(u) {
  updates++
  u = { ...u, workers: u.workers.slice().sort(byName) }
  stream.offset = u.t - Date.now()
  renderHeader(u)
  renderWorkers(u.workers)
  renderProgress(u.functions, u.functionsTotal)
  stream.setWorkers(u.workers)
  stream.add(u.stream, u.t)
  renderStreamNote(u)
  charts.push(u.points)
  for (const e of u.errors) errors.unshift(e)
  if (errors.length > MAX_ERRORS) errors.length = MAX_ERRORS
  renderErrors(u.errorsTotal)
  document.body.dataset.updates = String(updates)
}

function renderHeader(u) {
  const procs = u.workers.reduce((n, w) => n + w.procs, 0)
  setText($('stat-workers'), u.workers.length)
  setText($('stat-procs'), procs)
  setText($('stat-clients'), u.coordinator.clients)
  setText($('stat-rate'), fmtRate(u.tasksPerSecond))
  setText($('stat-queued'), fmtCount(u.tasks.queued + u.tasks.waiting))
  setText($('stat-running'), fmtCount(u.workers.reduce((n, w) => n + w.running, 0)))
  setText($('stat-finished'), fmtCount(u.totals.finished))
  setText($('stat-erred'), fmtCount(u.totals.erred))
  $('stat-erred').parentElement.classList.toggle('bad', u.totals.erred > 0)
  setText($('stat-submitted'), fmtCount(u.totals.submitted))
  setText($('version'), 'v' + u.coordinator.version + ' · up ' + fmtUptime(u.coordinator.uptimeSeconds))
  const warn = $('no-worker')
  warn.hidden = u.tasks.noWorker === 0
  if (u.tasks.noWorker > 0) setText(warn, u.tasks.noWorker + ' queued tasks fit no connected worker')
}

function meter(cls) {
  const outer = el('span', { class: 'meter ' + cls })
  outer.append(el('span', { class: 'meter-fill' }))
  return outer
}

function workerRow() {
  const cells = {}
  const tr = el('tr')
  for (const key of ['name', 'host', 'procs', 'running', 'queued', 'done', 'failed', 'cpu', 'memory', 'heartbeat', 'state']) {
    const td = el('td', { class: 'col-' + key })
    cells[key] = td
    tr.append(td)
  }
  cells.cpuText = el('span')
  cells.cpuMeter = meter('cpu')
  cells.cpu.append(cells.cpuMeter, cells.cpuText)
  cells.memText = el('span')
  cells.memMeter = meter('mem')
  // The stacked bar, as Dask's: managed in memory, unmanaged, spilled to disk; the limit marked.
  cells.memBar = el('span', { class: 'membar' })
  cells.memManaged = el('span', { class: 'mem-managed' })
  cells.memUnmanaged = el('span', { class: 'mem-unmanaged' })
  cells.memSpilled = el('span', { class: 'mem-spilled' })
  cells.memLimit = el('span', { class: 'mem-limit' })
  cells.memBar.append(cells.memManaged, cells.memUnmanaged, cells.memSpilled, cells.memLimit)
  cells.memory.append(cells.memMeter, cells.memBar, cells.memText)
  cells.statePill = el('span', { class: 'pill' })
  cells.state.append(cells.statePill)
  return { tr, cells }
}

function renderWorkers(workers) {
  const tbody = $('workers-body')
  const seen = new Set()
  let prev = null
  for (const w of workers) {
    seen.add(w.id)
    let row = workerRows.get(w.id)
    if (!row) {
      row = workerRow()
      workerRows.set(w.id, row)
    }
    const c = row.cells
    setText(c.name, w.name)
    c.name.title = w.id
    setText(c.host, w.host)
    setText(c.procs, w.procs)
    setText(c.running, w.running)
    setText(c.queued, w.queued)
    setText(c.done, fmtCount(w.done))
    setText(c.failed, fmtCount(w.failed))
    c.failed.classList.toggle('bad', w.failed > 0)
    setText(c.cpuText, Math.round(w.cpu * 100) + '%')
    c.cpuMeter.firstChild.style.width = Math.min(100, (100 * w.cpu) / Math.max(1, w.procs)) + '%'
    c.cpu.title = w.cpu.toFixed(2) + ' cores of ' + w.procs + ' processes'
    const m = w.memory
    c.memMeter.hidden = m !== null
    c.memBar.hidden = m === null
    if (m === null) {
      setText(c.memText, fmtBytes(w.memoryRss))
      c.memMeter.firstChild.style.width = (w.memoryBytes > 0 ? Math.min(100, (100 * w.memoryRss) / w.memoryBytes) : 0) + '%'
      c.memory.title = fmtBytes(w.memoryRss) + ' resident of ' + fmtBytes(w.memoryBytes) + ' allowed; holds ' + fmtBytes(w.heldBytes) + ' of results'
    } else {
      const scale = Math.max(m.limit, m.managed + m.unmanaged + m.spilled, 1)
      const pct = (n) => ((100 * n) / scale).toFixed(2) + '%'
      c.memManaged.style.width = pct(m.managed)
      c.memUnmanaged.style.width = pct(m.unmanaged)
      c.memSpilled.style.width = pct(m.spilled)
      c.memLimit.style.left = pct(m.limit)
      c.memBar.dataset.managed = m.managed
      c.memBar.dataset.unmanaged = m.unmanaged
      c.memBar.dataset.spilled = m.spilled
      c.memBar.dataset.limit = m.limit
      c.memBar.dataset.state = m.state
      c.memBar.classList.toggle('paused', m.paused)
      setText(c.memText, fmtBytes(m.managed + m.unmanaged) + ' / ' + fmtBytes(m.limit) + (m.spilled > 0 ? ' + ' + fmtBytes(m.spilled) + ' spilled' : ''))
      c.memory.title = 'managed ' + fmtBytes(m.managed) + ', unmanaged ' + fmtBytes(m.unmanaged) + ', spilled to disk ' + fmtBytes(m.spilled) + ', limit ' + fmtBytes(m.limit) + '; memory ' + m.state
    }
    setText(c.heartbeat, fmtAgo(w.lastHeartbeatMsAgo))
    c.heartbeat.classList.toggle('bad', w.lastHeartbeatMsAgo > LATE_HEARTBEAT_MS)
    const shown = m !== null && m.paused && w.state === 'running' ? 'paused' : w.state
    setText(c.statePill, shown)
    c.statePill.className = 'pill state-' + shown
    const expected = prev ? prev.nextSibling : tbody.firstChild
    if (expected !== row.tr) tbody.insertBefore(row.tr, expected)
    prev = row.tr
  }
  for (const [id, row] of workerRows) {
    if (!seen.has(id)) {
      row.tr.remove()
      workerRows.delete(id)
    }
  }
  $('workers-empty').hidden = workers.length > 0
}

function fnRow(fn) {
  const swatch = el('span', { class: 'swatch', style: { background: colorFor(fn) } })
  const name = el('span', { class: 'fn-name', title: fn }, fn)
  const counts = el('span', { class: 'fn-counts' })
  const head = el('div', { class: 'fn-head' }, swatch, name, counts)
  const done = el('span', { class: 'seg seg-done', style: { background: colorFor(fn) } })
  const erred = el('span', { class: 'seg seg-erred', style: { background: ERROR_COLOR } })
  const running = el('span', { class: 'seg seg-running', style: { background: colorFor(fn) } })
  const bar = el('div', { class: 'bar' }, done, erred, running)
  const root = el('div', { class: 'fn-row' }, head, bar)
  return { root, counts, done, erred, running }
}

function renderProgress(functions, total) {
  const list = $('progress')
  const seen = new Set()
  let prev = null
  for (const f of functions) {
    seen.add(f.fn)
    let row = fnRows.get(f.fn)
    if (!row) {
      row = fnRow(f.fn)
      fnRows.set(f.fn, row)
    }
    const all = f.pending + f.running + f.done + f.erred
    const pct = (n) => (all === 0 ? 0 : (100 * n) / all) + '%'
    row.done.style.width = pct(f.done)
    row.erred.style.width = pct(f.erred)
    row.running.style.width = pct(f.running)
    const parts = [fmtCount(f.done + f.erred) + ' / ' + fmtCount(all)]
    if (f.erred > 0) parts.push(fmtCount(f.erred) + ' erred')
    if (f.running > 0) parts.push(fmtCount(f.running) + ' running')
    if (f.pending > 0) parts.push(fmtCount(f.pending) + ' pending')
    setText(row.counts, parts.join(' · '))
    row.root.dataset.done = String(f.done)
    row.root.dataset.erred = String(f.erred)
    row.root.dataset.running = String(f.running)
    row.root.dataset.pending = String(f.pending)
    row.root.dataset.fn = f.fn
    const expected = prev ? prev.nextSibling : list.firstChild
    if (expected !== row.root) list.insertBefore(row.root, expected)
    prev = row.root
  }
  for (const [fn, row] of fnRows) {
    if (!seen.has(fn)) {
      row.root.remove()
      fnRows.delete(fn)
    }
  }
  $('progress-empty').hidden = functions.length > 0
  const more = $('progress-more')
  more.hidden = total <= functions.length
  setText(more, 'showing the ' + functions.length + ' busiest of ' + total + ' functions')
}

function renderStreamNote(u) {
  received += u.stream.bars.length
  $('stream').dataset.received = String(received)
  const now = u.t
  sampleLog.push({ t: now, seen: u.stream.seen, sent: u.stream.bars.length })
  sampleLog = sampleLog.filter((s) => s.t > now - STREAM_WINDOW_MS)
  let seen = 0
  let sent = 0
  for (const s of sampleLog) {
    seen += s.seen
    sent += s.sent
  }
  const note = $('stream-note')
  setText(note, seen === 0 ? 'no tasks ended in the last minute' : fmtCount(seen) + ' tasks ended in the last minute' + (sent < seen ? ' · showing a sample of ' + fmtCount(sent) : ''))
  const legend = $('stream-legend')
  const fns = []
  for (const f of fnRows.keys()) if (fns.length < 12) fns.push(f)
  const key = fns.join('\u0000')
  if (legend.dataset.key !== key) {
    legend.dataset.key = key
    legend.replaceChildren(
      ...fns.map((f) => el('span', { class: 'legend-item' }, el('span', { class: 'swatch', style: { background: colorFor(f) } }), f)),
      el('span', { class: 'legend-item' }, el('span', { class: 'swatch', style: { background: ERROR_COLOR } }), 'error'),
    )
  }
}

function renderErrors(total) {
  const list = $('errors')
  const keep = new Set(errors.map((e) => e.seq))
  for (const [seq, node] of errorNodes) {
    if (!keep.has(seq)) {
      node.remove()
      errorNodes.delete(seq)
    }
  }
  let prev = null
  for (const e of errors) {
    let node = errorNodes.get(e.seq)
    if (!node) {
      const summary = el(
        'summary',
        null,
        el('span', { class: 'err-time' }, fmtClock(e.atMs)),
        el('span', { class: 'err-fn' }, e.fn),
        el('span', { class: 'err-msg' }, e.name + ': ' + e.message),
        el('span', { class: 'err-worker' }, 'on ' + e.worker),
      )
      node = el('details', { class: 'error' }, summary, el('pre', { class: 'stack' }, e.stack || e.name + ': ' + e.message + '\n(no stack)'))
      summary.addEventListener('click', () => { errorsTouched = true })
      errorNodes.set(e.seq, node)
    }
    const expected = prev ? prev.nextSibling : list.firstChild
    if (expected !== node) list.insertBefore(node, expected)
    prev = node
  }
  // Until the reader opens or closes one, the newest error shows its stack.
  if (!errorsTouched && errors.length > 0) {
    for (const [seq, node] of errorNodes) node.open = seq === errors[0].seq
  }
  $('errors-empty').hidden = errors.length > 0
  setText($('errors-total'), total > 0 ? fmtCount(total) + ' seen while the dashboard was open' : '')
}

connect()
`
