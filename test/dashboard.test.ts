// The live dashboard in a real browser (Debian's chromium driven by playwright-core), against a
// LocalCluster that runs tasks: workers appear, the task stream and progress move, an erred task
// shows its error and stack, access without the token is refused, and the token never reaches
// the page. Plus the event stream read from Node: updates stay bounded, and the dashboard costs
// nothing (no hooks on the core) while nobody watches.
import { copyFileSync, existsSync, mkdirSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

import { LocalCluster } from 'clusterpool'
import test from 'ava'
import { chromium, type Browser, type Page } from 'playwright-core'

import { startCluster } from './helpers/cluster.js'
import { openEvents, type SseEvent } from './helpers/dashboard-sse.js'
import { waitFor } from './helpers/processes.js'

const CHROMIUM = '/usr/bin/chromium'
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
]
const hasChromium = existsSync(CHROMIUM)
const inCi = process.env.CI === 'true'
const ARTIFACTS = fileURLToPath(new URL('./artifacts/', import.meta.url))
const DOCS_SCREENSHOT = fileURLToPath(new URL('../docs/dashboard.png', import.meta.url))

// The callbacks given to page.evaluate and friends run in the browser; this project is
// type-checked without the DOM library, so the little they use of the browser is declared here.
interface BrowserElement {
  readonly dataset: Record<string, string | undefined>
  readonly textContent: string | null
}
declare const document: {
  querySelectorAll(selector: string): Iterable<BrowserElement> & { readonly length: number }
  querySelector(selector: string): BrowserElement | null
  readonly cookie: string
}

// ─── tasks (shipped to the workers as source: self-contained) ─────────────────────────────

function simulate(ms: number): number {
  const end = Date.now() + ms
  let spins = 0
  while (Date.now() < end) spins++
  return spins
}

function loadChunk(i: number): number {
  const end = Date.now() + 12
  while (Date.now() < end);
  return i
}

function reduceBlock(i: number): number {
  const end = Date.now() + 450
  while (Date.now() < end);
  return i
}

function parseRecord(i: number): number {
  const end = Date.now() + 60
  while (Date.now() < end);
  if (i === 13) throw new RangeError(`dashboard-test: record ${i} is malformed`)
  return i
}

function tiny(i: number): number {
  return i + 1
}

function cpuHeavy(ms: number): number {
  const end = Date.now() + ms
  let x = 0
  while (Date.now() < end) x = (x * 31 + 7) % 1_000_003
  return x
}

async function fetchUrl(ms: number): Promise<number> {
  await new Promise((resolve) => setTimeout(resolve, ms))
  return ms
}

// ─── fixtures ──────────────────────────────────────────────────────────────────────────────

let cluster: LocalCluster
let browser: Browser | undefined

test.before(async () => {
  cluster = await startCluster({ workers: 2, procs: 1, workerOutput: 'ignore' })
  if (hasChromium)
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS })
})

test.after.always(async () => {
  await browser?.close()
  await cluster?.close()
})

if (!hasChromium) {
  if (inCi) {
    test('chromium is installed for the dashboard browser tests', (t) => {
      t.fail(`${CHROMIUM} is missing in CI: .ci/run must install Debian's chromium`)
    })
  } else {
    console.warn(
      `\n  SKIPPING the dashboard browser tests: ${CHROMIUM} is missing (apt-get install chromium)\n`,
    )
  }
}
const browserTest = hasChromium ? test.serial : test.serial.skip

/** Sums a data attribute over the progress rows. */
async function progressDone(page: Page): Promise<number> {
  return page.$$eval('#progress .fn-row', (rows) =>
    rows.reduce((n, r) => n + Number(r.dataset.done ?? 0), 0),
  )
}

async function streamReceived(page: Page): Promise<number> {
  return page.$eval('#stream', (c) => Number(c.dataset.received ?? 0))
}

browserTest(
  'the dashboard shows workers, a moving task stream and progress, and errors',
  async (t) => {
    const context = await browser!.newContext({ viewport: { width: 1440, height: 1100 } })
    t.teardown(() => context.close())
    const page = await context.newPage()
    const pageErrors: string[] = []
    page.on('pageerror', (error) => pageErrors.push(error.message))
    page.on('console', (m) => {
      if (m.type() === 'error') pageErrors.push(m.text())
    })
    const external: string[] = []
    page.on('request', (r) => {
      if (!r.url().startsWith(cluster.httpUrl)) external.push(r.url())
    })

    const response = await page.goto(`${cluster.httpUrl}/?token=${cluster.token}`)
    t.is(response?.status(), 200)
    t.is(page.url(), `${cluster.httpUrl}/`, 'the login redirect drops the token from the URL')
    await page.waitForSelector('#conn.conn-live', { timeout: 30_000 })

    // The workers appear.
    await page.waitForFunction(() => document.querySelectorAll('#workers-body tr').length === 2)
    const names = await page.$$eval('#workers-body td.col-name', (tds) =>
      tds.map((td) => td.textContent),
    )
    t.deepEqual(names.sort(), ['local-1', 'local-2'])
    t.is(await page.textContent('#stat-workers'), '2')

    // A demo-like workload: several functions, some slow, one task that throws.
    const ex = cluster.executor()
    const futures: Promise<unknown>[] = []
    for (let i = 0; i < 24; i++) futures.push(ex.submit(parseRecord, i))
    for (let i = 0; i < 200; i++) futures.push(ex.submit(loadChunk, i))
    for (let i = 0; i < 30; i++) futures.push(ex.submit(simulate, 120 + ((i * 37) % 200)))
    for (let i = 0; i < 12; i++) futures.push(ex.submit(reduceBlock, i))
    const settled = Promise.allSettled(futures)

    // Progress and the task stream move: their counts grow between two reads.
    await page.waitForFunction(
      () =>
        [...document.querySelectorAll('#progress .fn-row')].some(
          (r) => Number(r.dataset.done) > 0,
        ) && Number(document.querySelector('#stream')!.dataset.received) > 0,
      undefined,
      { timeout: 60_000 },
    )
    const done1 = await progressDone(page)
    const bars1 = await streamReceived(page)
    await page.waitForFunction(
      ([done, bars]) => {
        const rows = [...document.querySelectorAll('#progress .fn-row')]
        const now = rows.reduce((n, r) => n + Number(r.dataset.done), 0)
        const received = Number(document.querySelector('#stream')!.dataset.received)
        return now > done! && received > bars!
      },
      [done1, bars1],
      { timeout: 60_000 },
    )
    t.true((await progressDone(page)) > done1, 'progress moved')
    t.true((await streamReceived(page)) > bars1, 'the task stream moved')
    const fns = await page.$$eval('#progress .fn-row', (rows) => rows.map((r) => r.dataset.fn))
    for (const fn of ['parseRecord', 'loadChunk', 'simulate', 'reduceBlock'])
      t.true(fns.includes(fn), fn)
    await page.waitForFunction(() => Number(document.querySelector('#stream')!.dataset.drawn) > 0)

    // The erred task shows its error, with the task-side stack.
    const error = await page.waitForSelector('#errors details.error', { timeout: 60_000 })
    t.regex((await error.textContent()) ?? '', /RangeError: dashboard-test: record 13 is malformed/)
    t.regex((await error.$eval('pre.stack', (p) => p.textContent)) ?? '', /parseRecord/)
    t.regex((await page.textContent('#errors-panel')) ?? '', /on local-\d/)

    // Wait until the charts have a few points, then keep a screenshot while the tasks run.
    await page.waitForFunction(() => document.querySelectorAll('#charts-panel .uplot').length === 3)
    await page.waitForTimeout(2500)
    mkdirSync(ARTIFACTS, { recursive: true })
    const shot = `${ARTIFACTS}dashboard.png`
    await page.screenshot({ path: shot, fullPage: true })
    if (process.env.DASHBOARD_DOCS_SCREENSHOT === '1') copyFileSync(shot, DOCS_SCREENSHOT)

    const outcomes = await settled
    t.is(outcomes.filter((o) => o.status === 'rejected').length, 1, 'one task failed')
    await page.waitForFunction(
      () => document.querySelector('#stat-finished')?.textContent === '265',
      undefined,
      { timeout: 30_000 },
    )

    // The token is nowhere in the page, its files, or readable cookies.
    t.false((await page.content()).includes(cluster.token))
    for (const path of ['/', '/dashboard.js', '/dashboard-stream.js', '/dashboard-charts.js']) {
      const r = await page.request.get(`${cluster.httpUrl}${path}`)
      t.is(r.status(), 200, path)
      t.false((await r.text()).includes(cluster.token), path)
    }
    t.false((await page.evaluate(() => document.cookie)).includes('clusterpool_session'))
    t.deepEqual(external, [], 'the page loads nothing from the network beyond the coordinator')
    t.deepEqual(pageErrors, [])
  },
)

browserTest('the dashboard is refused without the token', async (t) => {
  const context = await browser!.newContext()
  t.teardown(() => context.close())
  const page = await context.newPage()
  const response = await page.goto(`${cluster.httpUrl}/`)
  t.is(response?.status(), 401)
  t.regex((await page.textContent('body')) ?? '', /token is required/)
  for (const path of ['/api/events', '/dashboard.js', '/vendor/uplot.iife.min.js']) {
    const r = await page.request.get(`${cluster.httpUrl}${path}`)
    t.is(r.status(), 401, path)
  }
  const wrong = await page.goto(`${cluster.httpUrl}/?token=not-the-token`)
  t.is(wrong?.status(), 401)
})

test.serial('the event stream is bounded, and idle without viewers', async (t) => {
  const core = cluster.coordinator.core
  await waitFor(() => !core.events.listening('taskEnd'), 'earlier viewers to leave')

  const refused = await openEvents(cluster.httpUrl, undefined)
  t.is(refused.status, 401)
  refused.close()

  const sse = await openEvents(cluster.httpUrl, cluster.token)
  t.is(sse.status, 200)
  t.regex(sse.contentType, /^text\/event-stream/)
  await sse.until((events) => events.length > 0, 'the hello event')
  const hello = sse.events[0]!
  t.is(hello.event, 'hello')
  const config = (hello.data as { config: { streamCap: number } }).config
  t.true(core.events.listening('taskEnd'), 'watching subscribes to the core')

  const n = 1500
  const ex = cluster.executor()
  await Promise.all(Array.from({ length: n }, (_, i) => ex.submit(tiny, i)))

  interface Update {
    stream: { bars: unknown[]; seen: number }
    functions: { fn: string; done: number }[]
  }
  const updates = (events: SseEvent[]): Update[] =>
    events.filter((e) => e.event === 'update').map((e) => e.data as Update)
  const seen = (events: SseEvent[]): number =>
    updates(events).reduce((s, u) => s + u.stream.seen, 0)
  await sse.until((events) => seen(events) >= n, `${n} task ends in the stream`)
  t.is(seen(sse.events), n, 'every task end is counted once')
  for (const u of updates(sse.events)) {
    t.true(u.stream.bars.length <= config.streamCap)
    t.true(u.stream.bars.length <= u.stream.seen)
    if (u.stream.seen >= config.streamCap) t.is(u.stream.bars.length, config.streamCap)
    t.true(JSON.stringify(u).length < 256 * 1024)
  }
  await sse.until(
    (events) =>
      updates(events)
        .at(-1)
        ?.functions.find((f) => f.fn === 'tiny')?.done === n,
    'the progress of tiny',
  )

  sse.close()
  await waitFor(
    () => !core.events.listening('taskEnd'),
    'the dashboard to unhook once nobody watches',
  )
  t.pass()
})

// `DASHBOARD_DOCS_SCREENSHOT=1 npx ava dashboard.test.ts` also refreshes docs/dashboard.png, the
// README's picture: a longer, demo-like run (CPU-heavy loops, I/O waits, many small tasks, one
// failure), caught about 25 seconds in.
if (hasChromium && process.env.DASHBOARD_DOCS_SCREENSHOT === '1') {
  test.serial('a screenshot of a demo-like run for the README', async (t) => {
    const context = await browser!.newContext({ viewport: { width: 1440, height: 1000 } })
    t.teardown(() => context.close())
    const page = await context.newPage()
    await page.goto(`${cluster.httpUrl}/?token=${cluster.token}`)
    await page.waitForSelector('#conn.conn-live')
    const ex = cluster.executor()
    const futures: Promise<unknown>[] = []
    for (let i = 0; i < 120; i++) {
      if (i % 4 === 0) futures.push(ex.submit(cpuHeavy, 900))
      futures.push(ex.submit(fetchUrl, 100 + ((i * 53) % 200)))
      for (let j = 0; j < 4; j++) futures.push(ex.submit(loadChunk, i * 4 + j))
      if (i % 3 === 0) futures.push(ex.submit(parseRecord, i === 39 ? 13 : i))
    }
    const settled = Promise.allSettled(futures)
    await page.waitForTimeout(25_000)
    mkdirSync(ARTIFACTS, { recursive: true })
    const shot = `${ARTIFACTS}dashboard-demo.png`
    await page.screenshot({ path: shot, fullPage: true })
    copyFileSync(shot, DOCS_SCREENSHOT)
    await settled
    t.pass()
  })
}

/** 4 MiB of `i`: a result held on its worker. */
function block4(i: number): Uint8Array {
  return new Uint8Array(4 * 2 ** 20).fill(i)
}

browserTest(
  'worker memory: the stacked bar shows managed, unmanaged and spilled against the limit, and the paused state; /api/status and /metrics carry the same figures',
  async (t) => {
    // A worker that spills into a 8 MiB cap and then pauses (its disk is "full").
    const small = await LocalCluster.start({
      workers: 0,
      workerOutput: 'ignore',
      coordinator: { logLevel: 'silent', heartbeatIntervalMs: 250 },
    })
    t.teardown(() => small.close())
    small.addWorker({
      procs: 1,
      name: 'mem',
      args: ['--memory-limit', '400MB', '--memory-target', '0.3', '--max-spill', '8MiB'],
    })
    await small.waitForWorkers(1)
    const ex = small.executor()
    t.teardown(() => ex.shutdown({ cancelFutures: true }))
    const futures = Array.from({ length: 60 }, (_, i) => ex.submit(block4, i))
    t.teardown(() => void futures.length)

    const context = await browser!.newContext({ viewport: { width: 1440, height: 900 } })
    t.teardown(() => context.close())
    const page = await context.newPage()
    await page.goto(`${small.httpUrl}/?token=${small.token}`)
    await page.waitForSelector('#conn.conn-live', { timeout: 30_000 })
    await page.waitForFunction(
      () => {
        const bar = document.querySelector('#workers-body .membar')
        return bar !== null && Number(bar.dataset.spilled) > 0 && bar.dataset.state === 'paused'
      },
      undefined,
      { timeout: 120_000 },
    )
    const bar = await page.$eval('#workers-body .membar', (b) => ({ ...b.dataset }))
    t.true(Number(bar.managed) > 0, 'managed in memory')
    t.true(Number(bar.unmanaged) > 0, 'unmanaged')
    t.true(Number(bar.spilled) > 0 && Number(bar.spilled) <= 8 * 2 ** 20, 'spilled, within the cap')
    t.is(Number(bar.limit), 400e6)
    t.is(await page.textContent('#workers-body .col-state .pill'), 'paused')
    t.regex((await page.textContent('#workers-body .col-memory')) ?? '', /spilled/)
    mkdirSync(ARTIFACTS, { recursive: true })
    await page.screenshot({ path: `${ARTIFACTS}dashboard-memory.png` })

    const bearer = { authorization: `Bearer ${small.token}` }
    const status = (await (
      await fetch(`${small.httpUrl}/api/status`, { headers: bearer })
    ).json()) as {
      workers: { memory: { paused: boolean; spilledBytes: number; limitBytes: number } | null }[]
    }
    t.like(status.workers[0]!.memory, { paused: true, limitBytes: 400e6 })
    const metrics = await (await fetch(`${small.httpUrl}/metrics`, { headers: bearer })).text()
    t.regex(metrics, /^clusterpool_worker_memory_paused\{worker="mem"\} 1$/m)
    t.regex(metrics, /^clusterpool_worker_memory_bytes\{worker="mem",kind="limit"\} 400000000$/m)
    const spilled = /^clusterpool_worker_memory_bytes\{worker="mem",kind="spilled"\} (\d+)$/m.exec(
      metrics,
    )
    t.true(Number(spilled?.[1]) > 0)
  },
)
