// A coordinator restart loses nothing (issue 12): real coordinator and worker processes, the
// coordinator SIGKILLed in the middle of a run and started again on the same port.
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

import test, { type ExecutionContext } from 'ava'
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

/**
 * The client program `fixtures/<name>` against cluster `c`, run with tsx, its output collected;
 * killed when the test ends.
 */
function clientProcess(
  t: ExecutionContext,
  name: string,
  c: Cluster,
): { child: ChildProcess; exited: Promise<number | null>; out(): string; err(): string } {
  const script = fileURLToPath(new URL(`fixtures/${name}`, import.meta.url))
  const child = spawn(process.execPath, ['--import=tsx', script, c.url, c.log], {
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  t.teardown(() => child.kill('SIGKILL'))
  let out = ''
  let err = ''
  child.stdout.on('data', (d: Buffer) => (out += d.toString()))
  child.stderr.on('data', (d: Buffer) => (err += d.toString()))
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve))
  return { child, exited, out: () => out, err: () => err }
}

/**
 * SIGKILLs the coordinator and starts it again on its port, with the client program `child`
 * frozen (SIGSTOP) until `workers` workers re-registered and `extraMs` more passed.
 */
async function restartWhileFrozen(
  c: Cluster,
  child: ChildProcess,
  workers: number,
  extraMs = 0,
): Promise<void> {
  await kill(c.coordinator)
  child.kill('SIGSTOP')
  try {
    c.coordinator = await startCoordinatorProcess(c.port, ['--log-level', 'info'])
    await waitFor(
      () =>
        (c.coordinator.output().match(/re-registered with an inventory/g)?.length ?? 0) >= workers,
      `${workers} worker(s) to re-register`,
      60_000,
    )
    await new Promise((resolve) => setTimeout(resolve, extraMs))
  } finally {
    child.kill('SIGCONT')
  }
}

/** The runs of `tags` that happened more than once. */
function twice(log: string): string[] {
  return [...runCounts(log)].filter(([, n]) => n > 1).map(([tag]) => tag)
}

test.serial(
  'SIGKILL of the coordinator during 2,000 tasks: every value right, nothing runs twice, held results fetched after',
  async (t) => {
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
    const total = 20 + 1280 + 500 + 100 + 100 + 1 // and one submitted during the outage

    await waitFor(() => runCounts(c.log).size >= 600, '600 runs before the kill', 120_000)
    await kill(c.coordinator)
    const ranBeforeKill = runCounts(c.log).size
    await waitFor(() => events.includes('disconnected'), 'the client to notice the outage')
    // Submitted during the outage: queued, sent on reconnect.
    const during = ex.submit(plain, c.log, 'during', 21, 1)
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
    t.is(await during, 42, 'the submit made during the outage ran once it was over')
    // The executor works on.
    t.is(await ex.submit((a: number, b: number) => a + b, 2, 3), 5)

    const counts = runCounts(c.log)
    t.is(counts.size, total, 'every task ran')
    t.deepEqual(twice(c.log), [], 'no task ran twice (no worker died)')
    t.deepEqual(events, [`disconnected`, events[1]!])
    t.regex(events[1]!, /^reconnected:\d+$/)
    t.is(logs.length, 2, 'one line for the outage, one for the recovery')
    t.log(`ran before the kill: ${ranBeforeKill}/${total}; ${events[1]}`)
  },
)

test.serial(
  'the coordinator does not come back within reconnectTimeoutMs: futures fail with ConnectionLostError and the process exits',
  async (t) => {
    const c = await cluster(1)
    t.teardown(() => teardown(c))
    const script = fileURLToPath(new URL('fixtures/outage-client.ts', import.meta.url))
    const child = spawn(process.execPath, ['--import=tsx', script, c.url, '2000'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let out = ''
    let err = ''
    child.stdout.on('data', (d: Buffer) => (out += d.toString()))
    child.stderr.on('data', (d: Buffer) => (err += d.toString()))
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve))
    t.teardown(() => child.kill('SIGKILL'))
    await waitFor(() => out.includes('submitted'), 'the client to submit', 60_000)
    await kill(c.coordinator)
    const code = await Promise.race([
      exited,
      new Promise<string>((resolve) => setTimeout(() => resolve('still running'), 60_000)),
    ])
    t.is(code, 0, `the client exits on its own, cleanly\n${err}`)
    const summary = JSON.parse(out.split('\n').find((l) => l.startsWith('{')) ?? '{}') as {
      events: string[]
      waitedMs: number
      afterwards: string
      lost: number
      other: number
    }
    t.is(summary.lost, 20, 'every future failed with ConnectionLostError')
    t.is(summary.other, 0)
    t.deepEqual(summary.events, ['disconnected'])
    t.is(summary.afterwards, 'BrokenExecutorError')
    t.regex(err, /lost the coordinator/)
    t.regex(
      err,
      /gave up on the coordinator: the coordinator did not come back within reconnectTimeoutMs \(2000 ms/,
    )
    t.is(err.match(/lost the coordinator/g)?.length, 1, 'logged once, not per retry')
  },
)

test.serial(
  'several clients, resuming before the workers come back: every value right, nothing runs twice',
  async (t) => {
    const c = await cluster(2, ['--resume-grace-ms', '15000'])
    t.teardown(() => teardown(c))
    const clients = await Promise.all(
      [0, 1, 2].map((i) => ClusterExecutor.connect(c.url, { name: `client-${i}`, log: () => {} })),
    )
    t.teardown(() => Promise.all(clients.map((ex) => ex.shutdown({ wait: false }))))
    await waitFor(
      async () => (await clients[0]!.submit(() => 1)) === 1,
      'a first task',
      60_000,
      100,
    )
    const reconnected = clients.map(
      (ex) => new Promise<void>((resolve) => ex.on('reconnected', () => resolve())),
    )
    const work = clients.map((ex, i) => {
      const plains = Array.from({ length: 300 }, (_, j) =>
        ex.submit(plain, c.log, `${i}-p${j}`, j, 1 + (j % 5)),
      )
      const chains = Array.from({ length: 20 }, (_, k) => {
        let f: Future<number> = ex.submit(step, c.log, `${i}-c${k}-0`, k, 2)
        for (let s = 1; s < 4; s++) f = ex.submit(step, c.log, `${i}-c${k}-${s}`, f, 2)
        return f
      })
      const helds = Array.from({ length: 20 }, (_, j) => ex.submit(big, c.log, `${i}-h${j}`, j))
      return { plains, chains, helds }
    })
    await waitFor(() => runCounts(c.log).size >= 300, '300 runs before the kill', 120_000)
    await kill(c.coordinator)
    // The workers are frozen while the coordinator restarts: the clients resume first.
    for (const w of c.workers) w.child.kill('SIGSTOP')
    try {
      await new Promise((resolve) => setTimeout(resolve, 500))
      c.coordinator = await startCoordinatorProcess(c.port, ['--resume-grace-ms', '15000'])
      await Promise.all(reconnected)
    } finally {
      for (const w of c.workers) w.child.kill('SIGCONT')
    }
    for (const [i, w] of work.entries()) {
      t.deepEqual(
        await Promise.all(w.plains),
        w.plains.map((_, j) => j * 2),
        `client ${i}`,
      )
      t.deepEqual(
        await Promise.all(w.chains),
        w.chains.map((_, k) => k + 4),
        `client ${i}`,
      )
      t.deepEqual(
        (await Promise.all(w.helds)).map((v) => v.split(':')[0]),
        w.helds.map((_, j) => String(j)),
      )
    }
    t.is(runCounts(c.log).size, 3 * (300 + 80 + 20))
    t.deepEqual(twice(c.log), [], 'no task ran twice (no worker died)')
    for (const ex of clients) t.is(await ex.submit((x: number) => x + 1, 1), 2)
  },
)

test.serial(
  'workers first: a client frozen through the restart resumes after the workers re-registered',
  async (t) => {
    const c = await cluster(2)
    t.teardown(() => teardown(c))
    const client = clientProcess(t, 'resume-client.ts', c)
    const { child, exited } = client
    await waitFor(
      () => client.out().includes('submitted') && runCounts(c.log).size >= 150,
      '150 runs',
      60_000,
    )
    await restartWhileFrozen(c, child, 2)
    t.is(await exited, 0, client.err())
    const summary = JSON.parse(
      client
        .out()
        .split('\n')
        .find((l) => l.startsWith('{')) ?? '{}',
    ) as {
      wrong: number
      after: number
    }
    t.deepEqual(summary, { wrong: 0, after: 2 })
    t.is(runCounts(c.log).size, 600 + 200)
    t.deepEqual(twice(c.log), [], 'no task ran twice (no worker died)')
    t.regex(c.coordinator.output(), /client resumed/)
  },
)

test.serial(
  'a task that submits tasks runs on through a restart, whether the worker or the client is back first',
  async (t) => {
    const c = await cluster(1)
    t.teardown(() => teardown(c))
    const client = clientProcess(t, 'nested-resume-client.ts', c)
    const { child, exited } = client
    await waitFor(() => (runCounts(c.log).size ?? 0) >= 5, 'the root and a few children', 60_000)
    // The client is frozen through the restart: the worker re-registers first, and the root
    // goes on submitting children (for a second) while the new coordinator does not know it.
    await restartWhileFrozen(c, child, 1, 1000)
    t.is(await exited, 0, `${client.err()}\n${c.coordinator.output().slice(-3000)}`)
    const result = JSON.parse(
      client
        .out()
        .split('\n')
        .find((l) => l.startsWith('{')) ?? '{}',
    ) as {
      sum: number
      retries: number
    }
    t.is(result.sum, (29 * 30) / 2, 'every child ran, and the root finished')
    // The child awaited at the kill failed with ConnectionLostError, and its second submit
    // (sending the function's source again) was taken.
    t.true(result.retries >= 1, `retries: ${result.retries}`)
    t.notRegex(c.coordinator.output(), /which it does not hold/, 'no report was dropped')
    t.is(runCounts(c.log).get('root'), 1, 'the root ran once')
  },
)
