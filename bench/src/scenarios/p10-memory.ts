// P10, worker memory. Two questions:
// - What does spilling cost? The worker's SpillStore (header, CRC-32, one file per value)
//   writes and reads values against a raw `fs` writeFile/readFile of the same bytes, the floor.
// - What does a memory limit cost a job that needs more than it? A job makes results worth
//   3 × the cluster's memory limit, holds them all, then reduces each one to a number; its
//   makespan under the limit (values spill and come back) against the same job with no limit.
//   Dask runs the same job with the same `memory_limit` in the same run (python/dask_memory.py).
import { mkdtempSync, rmSync } from 'node:fs'
import { readFile, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import { runPythonScript } from '../anchors/python.js'
import type { Ctx } from '../harness/measure.js'
import { median } from '../harness/stats.js'
import { errorText, withTimeout } from '../harness/timeout.js'
import { withEmptyCluster } from './cluster.js'

const MiB = 2 ** 20
export const SPILL = 'clusterpool SpillStore'
export const RAW_FS = 'floor: raw fs writeFile/readFile'

/** The job's size: per-worker limit, block size and count (3 × the cluster limit in blocks). */
export function memoryJob(quick: boolean): {
  workers: number
  limitBytes: number
  blockBytes: number
  blocks: number
} {
  // 400 MB a worker: two Node processes (the daemon and its task process) take ~150 MB before
  // any data, so much smaller limits measure their baseline more than spilling.
  const workers = quick ? 1 : 2
  const limitBytes = 400e6
  const blockBytes = 16 * MiB
  return {
    workers,
    limitBytes,
    blockBytes,
    blocks: Math.ceil((3 * workers * limitBytes) / blockBytes),
  }
}

function add(
  ctx: Ctx,
  system: string,
  family: 'clusterpool' | 'anchor',
  method: string,
  metric: string,
  unit: string,
  better: 'lower' | 'higher',
  runs: number[],
  note: string,
): void {
  ctx.results.add({
    scenario: 'P10',
    system,
    family,
    method,
    metric,
    unit,
    better,
    median: median(runs),
    runs,
    note,
  })
}

/** Spill write and read throughput against raw fs, MB/s, on the same values. */
async function spillThroughput(ctx: Ctx): Promise<void> {
  const { SpillStore } = await import('@clusterpool/worker-node/internal')
  const count = ctx.config.quick ? 8 : 32
  const values = Array.from({ length: count }, (_, i) => new Uint8Array(16 * MiB).fill(i))
  const bytes = count * 16 * MiB
  const runs = ctx.config.quick ? 2 : Math.max(6, ctx.config.runs)
  const t = {
    spillW: [] as number[],
    spillR: [] as number[],
    rawW: [] as number[],
    rawR: [] as number[],
  }
  const mbps = (ms: number): number => bytes / 1e6 / (ms / 1000)
  const spill = async (): Promise<void> => {
    const store = new SpillStore(undefined, Infinity)
    let at = performance.now()
    for (let i = 0; i < count; i++) await store.write(`k${i}`, values[i]!)
    t.spillW.push(mbps(performance.now() - at))
    at = performance.now()
    for (let i = 0; i < count; i++) await store.read(`k${i}`, 16 * MiB)
    t.spillR.push(mbps(performance.now() - at))
    store.close()
  }
  const raw = async (): Promise<void> => {
    const dir = mkdtempSync(join(tmpdir(), 'cp-bench-raw-'))
    let at = performance.now()
    for (let i = 0; i < count; i++) await writeFile(join(dir, `k${i}`), values[i]!)
    t.rawW.push(mbps(performance.now() - at))
    at = performance.now()
    for (let i = 0; i < count; i++) await readFile(join(dir, `k${i}`))
    t.rawR.push(mbps(performance.now() - at))
    rmSync(dir, { recursive: true, force: true })
  }
  // Alternating which goes first: the disk's writeback of the previous run lands on the next.
  for (let r = 0; r < runs; r++) {
    if (r % 2 === 0) {
      await spill()
      await raw()
    } else {
      await raw()
      await spill()
    }
  }
  const note = `${count} values of 16 MiB, one after another; reads come from the page cache for both`
  add(ctx, SPILL, 'clusterpool', 'write', 'throughput', 'MB/s', 'higher', t.spillW, note)
  add(ctx, RAW_FS, 'anchor', 'write', 'throughput', 'MB/s', 'higher', t.rawW, note)
  add(
    ctx,
    SPILL,
    'clusterpool',
    'read',
    'throughput',
    'MB/s',
    'higher',
    t.spillR,
    note + '; CRC-32 checked',
  )
  add(ctx, RAW_FS, 'anchor', 'read', 'throughput', 'MB/s', 'higher', t.rawR, note)
}

/** A block of `bytes` filled with `i`: a result held on its worker. */
const makeBlock = (i: number, bytes: number): Uint8Array => new Uint8Array(bytes).fill(i & 0xff)
/** A number from a block: what the reduction keeps of it. */
const reduceBlock = (b: Uint8Array): number => b[0]! + b[b.length >> 1]! + b.length

/** The job's makespan on a LocalCluster whose workers have `limitArgs`; seconds. */
async function clusterpoolJob(ctx: Ctx, limited: boolean): Promise<number[]> {
  const job = memoryJob(ctx.config.quick)
  const runs = ctx.config.quick ? 1 : Math.max(1, Math.min(ctx.config.runs, 2))
  const out: number[] = []
  for (let r = 0; r < runs; r++) {
    const seconds = await withEmptyCluster(async (cluster) => {
      for (let w = 0; w < job.workers; w++)
        cluster.addWorker({
          procs: 1,
          name: `m${w}`,
          ...(limited ? { args: ['--memory-limit', String(job.limitBytes)] } : {}),
        })
      await cluster.waitForWorkers(job.workers, 60_000)
      const ex = cluster.executor()
      // Warm up: the functions reach every worker's processes before the clock starts.
      await Promise.all(
        Array.from({ length: 2 * job.workers }, (_, i) => ex.submit(reduceBlock, makeBlock(i, 8))),
      )
      const t0 = performance.now()
      const blocks = Array.from({ length: job.blocks }, (_, i) =>
        ex.submit(makeBlock, i, job.blockBytes),
      )
      // All of them held at once (not `future.done()`, which would fetch them).
      for (;;) {
        const { memory, erred } = cluster.coordinator.status().tasks
        if (erred > 0) throw new Error(`${erred} block task(s) failed`)
        if (memory >= job.blocks) break
        await new Promise((resolve) => setTimeout(resolve, 20))
      }
      const parts = await Promise.all(blocks.map((b) => ex.submit(reduceBlock, b).result()))
      const seconds = (performance.now() - t0) / 1000
      const expected = blocks.reduce((n, _, i) => n + 2 * (i & 0xff) + job.blockBytes, 0)
      const total = parts.reduce((a, b) => a + b, 0)
      if (total !== expected) throw new Error(`the reduction gave ${total}, not ${expected}`)
      await ex.shutdown()
      return seconds
    })
    out.push(seconds)
  }
  return out
}

export async function memoryManagement(ctx: Ctx, dask: boolean): Promise<void> {
  try {
    await spillThroughput(ctx)
  } catch (error) {
    ctx.results.fail({ scenario: 'P10', system: SPILL, error: errorText(error) })
  }
  const job = memoryJob(ctx.config.quick)
  const what = `${job.blocks} × 16 MiB results (3 × ${job.workers} × ${job.limitBytes / 1e6} MB) held, then reduced`
  for (const limited of [true, false]) {
    const system = `clusterpool LocalCluster ${job.workers}×1${limited ? ` · --memory-limit ${job.limitBytes / 1e6}MB` : ' · no limit'}`
    try {
      const runs = await withTimeout(clusterpoolJob(ctx, limited), 900_000, system)
      add(
        ctx,
        system,
        'clusterpool',
        what,
        'makespan',
        's',
        'lower',
        runs,
        'from the first submit to the reduced sum',
      )
    } catch (error) {
      ctx.results.fail({ scenario: 'P10', system, error: errorText(error) })
    }
  }
  if (dask) {
    await runPythonScript(
      ctx,
      'P10',
      'dask_memory.py',
      {
        workers: job.workers,
        memory_limit: job.limitBytes,
        blocks: job.blocks,
        block_bytes: job.blockBytes,
        runs: ctx.config.quick ? 1 : Math.max(1, Math.min(ctx.config.runs, 2)),
        timeout_s: ctx.config.quick ? 120 : 300,
        what,
      },
      ctx.config.quick ? 600_000 : 1_800_000,
    )
  }
}
