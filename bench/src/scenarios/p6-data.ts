// P6, moving data. A value kept in one worker's memory is used by a task that must run on
// another worker: clusterpool relays it (holder → coordinator → worker) rather than having
// workers connect to each other. This measures what that choice costs: the transfer time on a
// LocalCluster, against the wire floor of one direct hop of the same bytes (the least a
// worker-to-worker transfer could cost) and of two hops (the least any relay could cost).
import { once } from 'node:events'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'

import { Packr, Unpackr } from 'msgpackr'
import WebSocket from 'ws'

import { killChild, startChild } from '../harness/children.js'
import type { Ctx } from '../harness/measure.js'
import { median } from '../harness/stats.js'
import { errorText, withTimeout } from '../harness/timeout.js'
import { withEmptyCluster } from './cluster.js'

const MB = 2 ** 20
export const RELAY = 'clusterpool relay (worker → coordinator → worker)'
export const ONE_HOP = 'wire floor: one ws hop (direct worker to worker)'
export const TWO_HOPS = 'wire floor: two ws hops (any relay)'

/** Where the task ran, and how many bytes it got. */
const inspect = (data: Uint8Array): { on: string; n: number } => ({
  on: process.env.CP_BENCH_NAME ?? '?',
  n: data.byteLength,
})

function add(
  ctx: Ctx,
  system: string,
  family: 'clusterpool' | 'anchor',
  mb: number,
  runs: number[],
  note: string,
): void {
  ctx.results.add({
    scenario: 'P6',
    system,
    family,
    method: `${mb} MB`,
    metric: 'transfer time',
    unit: 'ms',
    better: 'lower',
    median: median(runs),
    runs,
    note,
  })
}

/** The transfer time of `mb` MB between two workers, once per run (a fresh value each time). */
async function relayRuns(mb: number, runs: number): Promise<number[]> {
  const { task } = await import('clusterpool')
  return withEmptyCluster(async (cluster) => {
    for (const name of ['alpha', 'beta']) cluster.addWorker({ name, env: { CP_BENCH_NAME: name } })
    await cluster.waitForWorkers(2, 60_000)
    const ex = cluster.executor()
    const on = {
      alpha: task(inspect, { workers: ['alpha'] }),
      beta: task(inspect, { workers: ['beta'] }),
    }
    const out: number[] = []
    for (let r = 0; r <= runs; r++) {
      // A fresh value on alpha each run: no replica from an earlier run on beta.
      const data = ex.scatter(new Uint8Array(mb * MB).fill(r), { workers: ['alpha'] })
      await ex.submit(on.alpha, data) // the value has reached alpha (the scatter itself is not timed)
      let t = performance.now()
      await ex.submit(on.alpha, data)
      const local = performance.now() - t
      t = performance.now()
      const there = await ex.submit(on.beta, data)
      const remote = performance.now() - t
      if (there.n !== mb * MB) throw new Error(`the task got ${there.n} bytes, not ${mb * MB}`)
      if (r > 0) out.push(Math.max(0, remote - local)) // run 0 warms up
    }
    await ex.shutdown()
    return out
  })
}

/** One hop of `mb` MB to a child process and a small answer back, `runs` times. */
async function hopRuns(ws: WebSocket, mb: number, runs: number): Promise<number[]> {
  const packr = new Packr({ useRecords: false })
  const unpackr = new Unpackr({ useRecords: false })
  const out: number[] = []
  for (let r = 0; r <= runs; r++) {
    // Encoded before the clock starts, as a value held on a worker already is.
    const frame = packr.pack(new Uint8Array(mb * MB).fill(r))
    const t = performance.now()
    ws.send(frame)
    const [data] = (await once(ws, 'message')) as [Buffer]
    const { n } = unpackr.unpack(data) as { n: number }
    if (n !== mb * MB) throw new Error(`the sink got ${n} bytes`)
    if (r > 0) out.push(performance.now() - t)
  }
  return out
}

export async function dataMovement(ctx: Ctx): Promise<void> {
  const { config } = ctx
  const sizes = config.quick ? [1, 16] : [1, 16, 48]
  // Large buffers make single runs noisy (allocation, GC): at least 5 runs per size.
  const runs = Math.max(config.runs, 5)
  for (const mb of sizes) {
    try {
      const times = await relayRuns(mb, runs)
      add(
        ctx,
        RELAY,
        'clusterpool',
        mb,
        times,
        'task on the other worker minus the same task on the holder; a fresh value each run',
      )
    } catch (error) {
      ctx.results.fail({ scenario: 'P6', system: `${RELAY} · ${mb} MB`, error: errorText(error) })
    }
  }
  const script = fileURLToPath(new URL('../children/sink-server.ts', import.meta.url))
  const child = startChild(process.execPath, ['--import=tsx', script], {
    stdio: ['pipe', 'pipe', 'inherit'],
  })
  try {
    const lines = createInterface({ input: child.stdout! })
    const [line] = (await withTimeout(once(lines, 'line'), 30_000, 'sink server start')) as [string]
    const { port } = JSON.parse(line) as { port: number }
    const ws = new WebSocket(`ws://127.0.0.1:${port}`, {
      generateMask: (mask: Buffer) => mask.fill(0),
      perMessageDeflate: false,
      maxPayload: 1024 * MB,
    })
    await withTimeout(once(ws, 'open'), 10_000, 'sink connect')
    for (const mb of sizes) {
      const one = await hopRuns(ws, mb, runs)
      add(ctx, ONE_HOP, 'anchor', mb, one, 'send the encoded value, decode it, small answer')
      add(
        ctx,
        TWO_HOPS,
        'anchor',
        mb,
        one.map((x) => 2 * x),
        'twice the one-hop time',
      )
    }
    ws.close()
  } catch (error) {
    ctx.results.fail({ scenario: 'P6', system: 'wire floor', error: errorText(error) })
  } finally {
    await killChild(child)
  }
}
