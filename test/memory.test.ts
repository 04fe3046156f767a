// Worker memory management with real processes: a worker under --memory-limit spills held
// values to disk, kills a task process over its share, pauses and resumes, restarts task
// processes stuck over the limit, and survives a full spill area. RSS is sampled by the test
// from /proc (the daemon and its task processes), not taken from the daemon's own report.
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import { DataLostError } from '@clusterpool/protocol'
import {
  LocalCluster,
  WorkerDiedError,
  task,
  type ClusterExecutor,
  type WorkerMemoryStatus,
} from 'clusterpool'
import test from 'ava'

import { RssSampler } from './helpers/memory.js'
import { isAlive, waitFor } from './helpers/processes.js'

const MB = 2 ** 20

/** 16 MiB whose every byte is `i`, as the result to hold. */
const block = (i: number): Uint8Array => new Uint8Array(16 * 2 ** 20).fill(i)

/** Allocates about 2 GB in Buffers (outside the V8 heap) and touches every page. */
const hog = (): number => {
  const bufs: Buffer[] = []
  for (let i = 0; i < 128; i++) bufs.push(Buffer.alloc(16 * 2 ** 20, 1))
  return bufs.length
}

/** Whether `v` is 16 MiB of `i`. */
function intact(v: Uint8Array, i: number): boolean {
  if (v.byteLength !== 16 * MB) return false
  for (let j = 0; j < v.byteLength; j += 4093) if (v[j] !== i) return false
  return v[v.byteLength - 1] === i
}

/** 4 MiB of `i`, with `CP_TEST_NAME` of where it ran appended to the file `log` (one line per run). */
const smallBlock = async (i: number, log: string): Promise<Uint8Array> => {
  const { appendFileSync } = await import('node:fs')
  appendFileSync(log, `${i} ${process.env.CP_TEST_NAME ?? '?'}\n`)
  return new Uint8Array(4 * 2 ** 20).fill(i)
}

/** Where a task ran and a checksum of its input. */
const inspect = (data: Uint8Array): { on: string; sum: number; length: number } => {
  let sum = 0
  for (let i = 0; i < data.length; i += 4096) sum += data[i]!
  return { on: process.env.CP_TEST_NAME ?? '?', sum, length: data.length }
}

function intactSmall(v: Uint8Array, i: number): boolean {
  if (v.byteLength !== 4 * MB) return false
  for (let j = 0; j < v.byteLength; j += 4093) if (v[j] !== (i & 0xff)) return false
  return true
}

/**
 * Bytes the named worker holds (in memory or spilled), from its heartbeat. Waiting on this, not
 * on `future.done()`: asking a held future whether it is done fetches its value.
 */
function heldOf(cluster: LocalCluster, name?: string): number {
  const ws = cluster.coordinator.status().workers
  return (name === undefined ? ws[0] : ws.find((w) => w.name === name))?.heldBytes ?? 0
}

/** What a stalled wait should say: the cluster's task counts, its workers, the futures' states. */
function stateOf(cluster: LocalCluster, futures: readonly { toString(): string }[]): string {
  const { tasks, workers } = cluster.coordinator.status()
  const states = new Map<string, number>()
  for (const f of futures) {
    const state = /\{(\w+)\}$/.exec(f.toString())?.[1] ?? f.toString()
    states.set(state, (states.get(state) ?? 0) + 1)
  }
  return `tasks ${JSON.stringify(tasks)}; workers ${JSON.stringify(workers)}; futures ${JSON.stringify(Object.fromEntries(states))}`
}

/** The named worker's memory figures in the coordinator's status (heartbeats: every 250 ms here). */
function memoryOf(cluster: LocalCluster, name: string): WorkerMemoryStatus | null {
  return cluster.coordinator.status().workers.find((w) => w.name === name)?.memory ?? null
}

/** A cluster with the workers given (name → extra CLI args); heartbeats every 250 ms. */
async function workers(
  specs: Record<string, string[]>,
  body: (cluster: LocalCluster, ex: ClusterExecutor, pids: Record<string, number>) => Promise<void>,
): Promise<void> {
  const cluster = await LocalCluster.start({
    workers: 0,
    workerOutput: 'ignore',
    coordinator: { logLevel: 'silent', heartbeatIntervalMs: 250 },
  })
  try {
    const pids: Record<string, number> = {}
    for (const [name, args] of Object.entries(specs))
      pids[name] = cluster.addWorker({ procs: 1, name, args, env: { CP_TEST_NAME: name } }).pid!
    await cluster.waitForWorkers(Object.keys(specs).length)
    const ex = cluster.executor()
    await body(cluster, ex, pids)
    await ex.shutdown()
  } finally {
    await cluster.close()
  }
}

async function oneWorker(
  args: string[],
  body: (cluster: LocalCluster, ex: ClusterExecutor, pid: number) => Promise<void>,
): Promise<void> {
  const cluster = await LocalCluster.start({ workers: 0, workerOutput: 'ignore' })
  try {
    const child = cluster.addWorker({ procs: 1, name: 'limited', args })
    await cluster.waitForWorkers(1)
    const ex = cluster.executor()
    await body(cluster, ex, child.pid!)
    await ex.shutdown()
  } finally {
    await cluster.close()
  }
}

test.serial(
  '--memory-limit 400MB --procs 1: 48 held results of 16 MB come back, the 2 GB task fails alone, RSS stays within 1.25× the limit',
  async (t) => {
    await oneWorker(['--memory-limit', '400MB'], async (cluster, ex, pid) => {
      const limit = 400e6
      const sampler = new RssSampler(pid, 50)
      try {
        const futures = Array.from({ length: 48 }, (_, i) => ex.submit(block, i))
        // Held on the worker until awaited: wait for them to finish, then read them back. A
        // future done before that failed: the wait ends, and reading it back throws its error.
        await waitFor(
          () => futures.some((f) => f.done()) || heldOf(cluster) >= 48 * 16 * MB,
          () => `the 48 results to be computed and held; ${stateOf(cluster, futures)}`,
          240_000,
          100,
        )
        const status = cluster.coordinator.status().workers[0]!
        t.log(
          `held ${status.heldBytes / MB} MiB; peak RSS so far ${(sampler.peak / MB).toFixed(0)} MiB`,
        )
        for (let i = 0; i < 48; i++) {
          const v = await futures[i]!.result()
          t.true(intact(v, i), `value ${i} came back intact`)
        }
        const err = await t.throwsAsync(ex.submit(hog).result(), { instanceOf: WorkerDiedError })
        t.regex(err.message, /memory/, 'the error says memory')
        t.log(err.message)
        t.is(await ex.submit((x: number) => x + 1, 41).result(), 42, 'the next task runs')
        t.true(isAlive(pid), 'the daemon lives')
      } finally {
        sampler.stop()
      }
      const peak = sampler.peak
      t.log(
        `peak RSS of the worker host's processes: ${(peak / MB).toFixed(0)} MiB = ` +
          `${(peak / limit).toFixed(2)}× the limit, over ${sampler.samples.length} samples`,
      )
      t.true(sampler.samples.length > 10)
      t.true(peak <= 1.25 * limit, `peak ${peak} within 1.25 × ${limit}`)
    })
  },
)

test.serial(
  'spilled values are read back by a dependent on the same worker and relayed to another worker',
  async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'cp-mem-'))
    const log = join(dir, 'runs')
    try {
      await workers({ alpha: ['--memory-limit', '400MB'], beta: [] }, async (cluster, ex) => {
        const onAlpha = task(smallBlock, { workers: ['alpha'] })
        const futures = Array.from({ length: 100 }, (_, i) => ex.submit(onAlpha, i, log))
        await waitFor(() => heldOf(cluster, 'alpha') >= 400 * MB, 'the blocks', 240_000, 100)
        await waitFor(
          () => (memoryOf(cluster, 'alpha')?.spilledCount ?? 0) > 0,
          'alpha to report spilled values',
        )
        const m = memoryOf(cluster, 'alpha')!
        t.log(
          `alpha: ${m.spilledCount} values spilled (${m.spilledBytes / MB} MiB), ${(m.managedBytes / MB).toFixed(0)} MiB in memory`,
        )
        t.true(
          m.spilledBytes + m.managedBytes >= 400 * MB,
          'everything still held, on disk or in memory',
        )
        t.true(m.managedBytes <= 0.6 * 400e6, 'managed memory within the target')
        // The oldest values are the ones spilled first.
        const here = await ex.submit(task(inspect, { workers: ['alpha'] }), futures[0]!).result()
        t.deepEqual(here, { on: 'alpha', sum: 0, length: 4 * MB })
        const there = await ex.submit(task(inspect, { workers: ['beta'] }), futures[1]!).result()
        t.deepEqual(there, { on: 'beta', sum: 1024, length: 4 * MB }, 'relayed from the spill file')
        for (let i = 0; i < 100; i++)
          t.true(intactSmall(await futures[i]!.result(), i), `value ${i}`)
        t.is(readFileSync(log, 'utf8').trim().split('\n').length, 100, 'nothing was computed twice')
      })
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  },
)

test.serial(
  'corrupt spill files: results are computed again from their lineage, scattered data is a DataLostError',
  async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'cp-mem-'))
    const log = join(dir, 'runs')
    const local = join(dir, 'local')
    try {
      await workers(
        { alpha: ['--memory-limit', '400MB', '--local-directory', local] },
        async (cluster, ex) => {
          const scattered = ex.scatter(new Uint8Array(4 * MB).fill(200))
          const futures = Array.from({ length: 100 }, (_, i) => ex.submit(smallBlock, i, log))
          await waitFor(
            () => heldOf(cluster, 'alpha') >= 400 * MB + 4 * MB,
            'the blocks',
            240_000,
            100,
          )
          await waitFor(
            () => (memoryOf(cluster, 'alpha')?.spilledCount ?? 0) >= 20,
            'alpha to spill at least 20 values',
          )
          // Flip a byte in the middle of every spill file (the folder the daemon made in --local-directory).
          const [folder] = readdirSync(local)
          let corrupted = 0
          for (const name of readdirSync(join(local, folder!))) {
            if (name.startsWith('rss-share')) continue
            const file = join(local, folder!, name)
            const bytes = readFileSync(file)
            bytes[bytes.length >> 1] = bytes[bytes.length >> 1]! ^ 0xff
            writeFileSync(file, bytes)
            corrupted++
          }
          t.log(`corrupted ${corrupted} spill files`)
          t.true(corrupted >= 20)
          for (let i = 0; i < 100; i++)
            t.true(intactSmall(await futures[i]!.result(), i), `value ${i} intact`)
          const runs = readFileSync(log, 'utf8').trim().split('\n').length
          t.log(`${runs} runs for 100 values`)
          t.true(runs > 100, 'the lost ones were computed again')
          // The scattered value was the least recently used: spilled, corrupted, and without lineage.
          await t.throwsAsync(scattered.result(), { instanceOf: DataLostError })
        },
      )
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  },
)

/** Holds about `mb` MB in Buffers for `ms`, then frees them and collects; returns its pid. */
const holdFor = async (mb: number, ms: number): Promise<number> => {
  let bufs: Buffer[] = []
  for (let i = 0; i < mb / 16; i++) bufs.push(Buffer.alloc(16e6, 1))
  await new Promise((r) => setTimeout(r, ms))
  bufs = []
  const v8 = await import('node:v8')
  const vm = await import('node:vm')
  v8.setFlagsFromString('--expose-gc')
  ;(vm.runInNewContext('gc') as () => void)()
  return bufs.length + process.pid
}

/** Keeps about `mb` MB in Buffers in its process after it returns (a leak); returns its pid. */
const leak = (mb: number): number => {
  const g = globalThis as { leaked?: Buffer[] }
  g.leaked = []
  for (let i = 0; i < mb / 16; i++) g.leaked.push(Buffer.alloc(16e6, 1))
  return process.pid
}

const whereAmI = (): { on: string; pid: number } => ({
  on: process.env.CP_TEST_NAME ?? '?',
  pid: process.pid,
})

test.serial(
  'pause and resume: over the pause fraction a worker takes nothing new, the other runs it, and it resumes under the target',
  async (t) => {
    await workers(
      { alpha: ['--memory-limit', '1GB', '--memory-terminate', '0.99'], beta: [] },
      async (cluster, ex) => {
        const states: string[] = []
        const watch = setInterval(() => {
          const m = memoryOf(cluster, 'alpha')
          if (m && states.at(-1) !== m.state) states.push(m.state)
        }, 50)
        try {
          const big = ex.submit(task(holdFor, { workers: ['alpha'] }), 800, 4000)
          await waitFor(() => memoryOf(cluster, 'alpha')?.paused === true, 'alpha to pause', 60_000)
          // While alpha is paused, work that could go anywhere goes to beta.
          const meanwhile = await Promise.all(
            Array.from({ length: 6 }, () => ex.submit(whereAmI).result()),
          )
          t.deepEqual(new Set(meanwhile.map((r) => r.on)), new Set(['beta']))
          await big.result()
          await waitFor(
            () => memoryOf(cluster, 'alpha')?.paused === false,
            'alpha to resume',
            60_000,
          )
          const after = await ex.submit(task(whereAmI, { workers: ['alpha'] })).result()
          t.is(after.on, 'alpha', 'resumed, alpha runs tasks again')
        } finally {
          clearInterval(watch)
        }
        t.log(`alpha's memory states: ${states.join(' → ')}`)
        t.true(states.includes('paused'))
      },
    )
  },
)

test.serial(
  'a worker stuck paused with nothing to spill restarts its task processes and resumes',
  async (t) => {
    await workers(
      {
        alpha: [
          '--memory-limit',
          '1GB',
          '--memory-terminate',
          '0.99',
          '--paused-restart-timeout-ms',
          '2000',
        ],
      },
      async (cluster, ex) => {
        const leaker = await ex.submit(leak, 800).result()
        await waitFor(() => memoryOf(cluster, 'alpha')?.paused === true, 'alpha to pause', 60_000)
        // Nothing held, nothing to spill: only a restart of its process frees the memory.
        await waitFor(() => memoryOf(cluster, 'alpha')?.paused === false, 'alpha to resume', 60_000)
        const next = await ex.submit(whereAmI).result()
        t.not(next.pid, leaker, 'a new task process')
        await waitFor(
          () => (memoryOf(cluster, 'alpha')?.rssBytes ?? Infinity) < 600e6,
          'the leaked memory to be gone with its process',
        )
        t.pass()
      },
    )
  },
)

/** First run: allocates 2 GB (and is killed); a later run finds its marker and returns 'ok'. */
const hogOnce = async (marker: string): Promise<string> => {
  const fs = await import('node:fs')
  if (fs.existsSync(marker)) return 'ok'
  fs.writeFileSync(marker, '1')
  const bufs: Buffer[] = []
  for (let i = 0; i < 128; i++) bufs.push(Buffer.alloc(16 * 2 ** 20, 1))
  return String(bufs.length)
}

test.serial(
  'a hog task is killed for memory and retried under its retries; the daemon goes on',
  async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'cp-mem-'))
    try {
      await oneWorker(['--memory-limit', '400MB'], async (_cluster, ex, pid) => {
        const marker = join(dir, 'ran')
        t.is(await ex.submit(task(hogOnce, { retries: 1 }), marker).result(), 'ok')
        t.is(readFileSync(marker, 'utf8'), '1', 'the first run got as far as its marker')
        const other = join(dir, 'other')
        const err = await t.throwsAsync(ex.submit(hogOnce, other).result(), {
          instanceOf: WorkerDiedError,
        })
        t.regex(
          err.message,
          /killed for using too much memory: its resident memory reached [\d.]+ MiB, over its share of [\d.]+ MiB/,
        )
        t.true(isAlive(pid))
      })
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  },
)

test.serial(
  'disk full (--max-spill): spilling stops and the worker pauses without crashing, then goes on as values are released',
  async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'cp-mem-'))
    const log = join(dir, 'runs')
    try {
      await workers(
        { alpha: ['--memory-limit', '500MB', '--memory-target', '0.4', '--max-spill', '16MiB'] },
        async (cluster, ex, pids) => {
          const futures = Array.from({ length: 80 }, (_, i) => ex.submit(smallBlock, i, log))
          // Paused (its memoryPause), and a heartbeat since that shows it.
          await waitFor(
            () => {
              const m = memoryOf(cluster, 'alpha')
              return m?.paused === true && m.state === 'paused' && m.spilledCount > 0
            },
            'alpha to pause with values spilled',
            120_000,
          )
          const m = memoryOf(cluster, 'alpha')!
          t.log(
            `paused: ${m.spilledCount} spilled (${m.spilledBytes / MB} MiB), ${(m.managedBytes / MB).toFixed(0)} MiB in memory`,
          )
          t.true(m.spilledBytes <= 16 * MB, 'never past --max-spill')
          t.true(m.spilledCount >= 1)
          t.true(heldOf(cluster, 'alpha') < 80 * 4 * MB, 'paused before the end')
          t.true(isAlive(pids.alpha!))
          // Reading results releases them on the worker: room again, and it goes on.
          for (let i = 0; i < 80; i++)
            t.true(intactSmall(await futures[i]!.result(), i), `value ${i}`)
          t.true(isAlive(pids.alpha!))
        },
      )
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  },
)
