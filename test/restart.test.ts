// A coordinator restart loses nothing (issue 12): real coordinator and worker processes, the
// coordinator SIGKILLed in the middle of a run and started again on the same port.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import test from 'ava'
import { ClusterExecutor, type Future } from 'clusterpool'

import { waitFor } from './helpers/processes.js'
import {
  freePort,
  kill,
  runCounts,
  startCoordinatorProcess,
  startWorkerProcess,
  type Proc,
} from './helpers/restart.js'

// ─── the tasks: each run appends its tag to the run log, so runs can be counted ─────────────

const plain = async (log: string, tag: string, x: number, ms: number): Promise<number> => {
  const fs = await import('node:fs')
  fs.appendFileSync(log, `${tag}\n`)
  await new Promise((resolve) => setTimeout(resolve, ms))
  return x * 2
}

const step = async (log: string, tag: string, prev: number, ms: number): Promise<number> => {
  const fs = await import('node:fs')
  fs.appendFileSync(log, `${tag}\n`)
  await new Promise((resolve) => setTimeout(resolve, ms))
  return prev + 1
}

/** A result over the hold threshold (64 KiB): it stays on its worker until awaited. */
const big = async (log: string, tag: string, n: number): Promise<string> => {
  const fs = await import('node:fs')
  fs.appendFileSync(log, `${tag}\n`)
  return `${n}:`.padEnd(100_000, 'x')
}

const lookup = async (log: string, tag: string, table: number[], i: number): Promise<number> => {
  const fs = await import('node:fs')
  fs.appendFileSync(log, `${tag}\n`)
  await new Promise((resolve) => setTimeout(resolve, 2))
  return (table[i % table.length] ?? -1) + i
}

interface Cluster {
  readonly port: number
  readonly url: string
  coordinator: Proc
  readonly workers: Proc[]
  readonly dir: string
  readonly log: string
}

async function cluster(workers: number, coordinatorArgs: string[] = []): Promise<Cluster> {
  const dir = mkdtempSync(join(tmpdir(), 'cp-restart-'))
  const port = await freePort()
  const coordinator = await startCoordinatorProcess(port, coordinatorArgs)
  const url = `ws://127.0.0.1:${port}`
  const procs = Array.from({ length: workers }, (_, i) => startWorkerProcess(url, `w${i}`, 2))
  return { port, url, coordinator, workers: procs, dir, log: join(dir, 'runs.log') }
}

async function teardown(c: Cluster): Promise<void> {
  await Promise.all([kill(c.coordinator), ...c.workers.map(kill)])
  if (process.env.RESTART_TEST_DUMP) {
    const { writeFileSync } = await import('node:fs')
    writeFileSync(`${process.env.RESTART_TEST_DUMP}.coordinator`, c.coordinator.output())
    c.workers.forEach((w, i) => writeFileSync(`${process.env.RESTART_TEST_DUMP}.w${i}`, w.output()))
  }
  rmSync(c.dir, { recursive: true, force: true })
}

/** The runs of `tags` that happened more than once. */
function twice(log: string): string[] {
  return [...runCounts(log)].filter(([, n]) => n > 1).map(([tag]) => tag)
}

test('SIGKILL of the coordinator during 2,000 tasks: every value right, nothing runs twice, held results fetched after', async (t) => {
  const c = await cluster(2, ['--resume-grace-ms', '10000'])
  t.teardown(() => teardown(c))
  const logs: string[] = []
  const ex = await ClusterExecutor.connect(c.url, {
    reconnectTimeoutMs: 60_000,
    log: (m) => logs.push(m),
  })
  t.teardown(() => ex.shutdown({ wait: false }))
  const events: string[] = []
  ex.on('disconnected', () => events.push('disconnected'))
  ex.on('reconnected', (e) => events.push(`reconnected:${e.resubmitted}`))
  await waitFor(async () => (await ex.submit(() => 1)) === 1, 'a first task', 60_000, 100)

  // Scattered input, and held results finished (not awaited) before the kill.
  const table = Array.from({ length: 1000 }, (_, i) => i * 3)
  const scattered = ex.scatter(table)
  const heldEarly = Array.from({ length: 20 }, (_, i) =>
    ex.submit(big, c.log, `held-early-${i}`, i),
  )
  await waitFor(
    () => [...runCounts(c.log).keys()].filter((k) => k.startsWith('held-early-')).length === 20,
    'the early held results to run',
  )
  await new Promise((resolve) => setTimeout(resolve, 500)) // their reports reach the client

  const plains: Future<number>[] = []
  for (let i = 0; i < 1280; i++) plains.push(ex.submit(plain, c.log, `p${i}`, i, 1 + (i % 10)))
  const chains: Future<number>[] = []
  for (let k = 0; k < 100; k++) {
    let f: Future<number> = ex.submit(step, c.log, `c${k}-0`, k * 100, 2)
    for (let s = 1; s < 5; s++) f = ex.submit(step, c.log, `c${k}-${s}`, f, 2)
    chains.push(f)
  }
  const helds = Array.from({ length: 100 }, (_, i) => ex.submit(big, c.log, `held-${i}`, i))
  const lookups = Array.from({ length: 100 }, (_, i) =>
    ex.submit(lookup, c.log, `l${i}`, scattered, i),
  )
  const total = 20 + 1280 + 500 + 100 + 100

  await waitFor(() => runCounts(c.log).size >= 600, '600 runs before the kill', 120_000)
  await kill(c.coordinator)
  const ranBeforeKill = runCounts(c.log).size
  await new Promise((resolve) => setTimeout(resolve, 1000))
  c.coordinator = await startCoordinatorProcess(c.port, [
    '--resume-grace-ms',
    '10000',
    ...(process.env.RESTART_TEST_DUMP ? ['--log-level', 'info'] : []),
  ])

  t.deepEqual(
    await Promise.all(plains),
    plains.map((_, i) => i * 2),
  )
  t.deepEqual(
    await Promise.all(chains),
    chains.map((_, k) => k * 100 + 5),
  )
  t.deepEqual(
    (await Promise.all(helds)).map((v) => v.split(':')[0]),
    helds.map((_, i) => String(i)),
  )
  t.deepEqual(
    await Promise.all(lookups),
    lookups.map((_, i) => table[i % table.length]! + i),
  )
  // Held results that finished before the kill, awaited only now: fetched from their workers.
  const early = await Promise.all(heldEarly)
  t.deepEqual(
    early.map((v) => [v.length, v.split(':')[0]]),
    heldEarly.map((_, i) => [100_000, String(i)]),
  )
  // The executor works on.
  t.is(await ex.submit((a: number, b: number) => a + b, 2, 3), 5)

  const counts = runCounts(c.log)
  t.is(counts.size, total, 'every task ran')
  t.deepEqual(twice(c.log), [], 'no task ran twice (no worker died)')
  t.deepEqual(events, [`disconnected`, events[1]!])
  t.regex(events[1]!, /^reconnected:\d+$/)
  t.is(logs.length, 2, 'one line for the outage, one for the recovery')
  t.log(`ran before the kill: ${ranBeforeKill}/${total}; ${events[1]}`)
})
