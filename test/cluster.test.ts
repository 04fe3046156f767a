// The cluster (issue 3 §10): a real coordinator and real worker daemon processes over loopback.
// Worker faults (kill -9 of a daemon, a task that exits its process, a task that keeps killing
// its worker), cancellation, client disconnects, dependencies, and several clients at once.
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'

import {
  AbortedError,
  CancelledError,
  DependencyError,
  KilledWorkerError,
  WorkerDiedError,
  task,
  type ClusterExecutor,
  type Future,
  type LocalCluster,
} from 'clusterpool'
import test, { type ExecutionContext } from 'ava'

import { startCluster } from './helpers/cluster.js'
import { descendants, describeProcess, leftAlive, waitFor } from './helpers/processes.js'
import { gated } from './suite/shared.js'

// ─── shipped task functions ───────────────────────────────────────────────────────────────────

const inc = (x: number): number => x + 1

/** Spins for about `ms`, then returns `i * 7`: keeps a process busy without sleeping. */
const busy = (i: number, ms: number): number => {
  const end = Date.now() + ms
  while (Date.now() < end);
  return i * 7
}

// ─── helpers ──────────────────────────────────────────────────────────────────────────────────

let cluster: LocalCluster
const WORKERS = 3

test.before(async () => {
  cluster = await startCluster({ workers: WORKERS, procs: 1 })
})

test.after.always(async () => {
  const pids = descendants()
  await cluster?.close()
  const left = await leftAlive(pids)
  if (left.length > 0)
    throw new Error(`processes left behind: ${left.map(describeProcess).join('; ')}`)
})

async function client(t: ExecutionContext, name = 'cluster-test'): Promise<ClusterExecutor> {
  const ex = await cluster.connect({ name })
  t.teardown(() => ex.shutdown({ cancelFutures: true }))
  return ex
}

function scratch(t: ExecutionContext): {
  dir: string
  open(name: string): void
  until(name: string): Promise<void>
  markers(suffix: string): string[]
} {
  const dir = mkdtempSync(join(tmpdir(), 'clusterpool-cluster-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const has = (name: string): boolean => readdirSync(dir).includes(name)
  return {
    dir,
    open: (name) => writeFileSync(join(dir, name), ''),
    until: (name) => waitFor(() => has(name), `marker ${name}`, 60_000),
    markers: (suffix) =>
      readdirSync(dir)
        .filter((f) => f.endsWith(suffix))
        .map((f) => f.slice(0, -suffix.length))
        .sort(),
  }
}

/** Tasks the coordinator still works on: waiting, queued or processing. */
function activeTasks(): number {
  const { waiting, queued, processing } = cluster.coordinator.status().tasks
  return waiting + queued + processing
}

function doneByWorker(): Map<string, number> {
  return new Map(cluster.coordinator.status().workers.map((w) => [w.name, w.done]))
}

// ─── tests ────────────────────────────────────────────────────────────────────────────────────

test.serial('every worker gets work', async (t) => {
  const ex = await client(t)
  const before = doneByWorker()
  t.is(before.size, WORKERS)
  const results = await Promise.all(Array.from({ length: 60 }, (_, i) => ex.submit(busy, i, 20)))
  t.deepEqual(
    results,
    Array.from({ length: 60 }, (_, i) => i * 7),
  )
  const after = doneByWorker()
  for (const [name, done] of after) {
    t.true(done > (before.get(name) ?? 0), `worker ${name} ran tasks (${done})`)
  }
  const status = cluster.coordinator.status()
  t.is(status.workers.length, WORKERS)
  t.true(status.totals.finished >= 60)
  t.true(status.workers.every((w) => w.procs === 1 && w.state === 'running'))
})

test.serial('a task that exits its process fails alone; its daemon keeps serving', async (t) => {
  const ex = await client(t)
  const pids = cluster.workerPids
  const around = Array.from({ length: 30 }, (_, i) => ex.submit(busy, i, 2))
  const dying = ex.submit((code: number) => process.exit(code), 7)
  const after = Array.from({ length: 30 }, (_, i) => ex.submit(busy, 100 + i, 2))
  const error = await t.throwsAsync(dying, { instanceOf: WorkerDiedError })
  t.is(error.exitCode, 7)
  t.regex(error.message, /exited with code 7/)
  t.deepEqual(await Promise.all([...around, ...after]), [
    ...Array.from({ length: 30 }, (_, i) => i * 7),
    ...Array.from({ length: 30 }, (_, i) => (100 + i) * 7),
  ])
  t.deepEqual(cluster.workerPids, pids, 'no worker daemon died')
  t.is(cluster.coordinator.core.workerCount, WORKERS)
})

test.serial('cancel: a pending task never runs; a running one is aborted', async (t) => {
  const ex = await client(t)
  const s = scratch(t)
  // Fill every process and every worker's queue, so later tasks wait on the coordinator.
  const blockers = Array.from({ length: WORKERS * 4 }, (_, i) => ex.submit(gated, s.dir, `b${i}`))
  await waitFor(() => s.markers('.started').length === WORKERS, 'every process to be busy')
  const pending = Array.from({ length: 5 }, (_, i) => ex.submit(gated, s.dir, `p${i}`))
  await waitFor(
    () => cluster.coordinator.status().tasks.queued >= 5,
    'tasks queued on the coordinator',
  )
  const cancelledBefore = cluster.coordinator.status().totals.cancelled
  for (const f of pending) t.true(f.cancel())
  await waitFor(
    () => cluster.coordinator.status().totals.cancelled >= cancelledBefore + 5,
    'the coordinator to cancel them',
  )
  // A running blocker: cancel() is false, its task sees the abort signal, the future fails.
  const runningName = s.markers('.started')[0]!
  const running = blockers[Number(runningName.slice(1))]!
  await waitFor(() => running.running(), 'the future to be running')
  t.false(running.cancel())
  await s.until(`${runningName}.aborted`)
  await t.throwsAsync(running, { instanceOf: AbortedError })
  for (let i = 0; i < blockers.length; i++) s.open(`b${i}`)
  const outcomes = await Promise.allSettled(blockers)
  t.is(outcomes.filter((o) => o.status === 'fulfilled').length, blockers.length - 1)
  for (const f of pending) await t.throwsAsync(f, { instanceOf: CancelledError })
  t.deepEqual(
    s.markers('.started').filter((n) => n.startsWith('p')),
    [],
    'no cancelled task ever started',
  )
  await waitFor(() => activeTasks() === 0, 'no active tasks')
})

test.serial(
  'kill -9 of a worker daemon during 5,000 tasks: every future resolves right',
  async (t) => {
    const ex = await client(t)
    const n = 5000
    let done = 0
    const futures = Array.from({ length: n }, (_, i) => ex.submit(busy, i, 1))
    for (const f of futures) f.addDoneCallback(() => done++)
    await waitFor(() => done >= 500, '500 results')
    // The victim: a daemon that has tasks right now.
    const busyWorker = cluster.coordinator
      .status()
      .workers.find((w) => w.running + w.queued > 0 && cluster.workerPids.includes(w.pid))
    t.truthy(busyWorker, 'some worker is busy')
    const victim = busyWorker!.pid
    const itsPool = descendants(victim)
    const doneAtKill = done
    process.kill(victim, 'SIGKILL')
    t.true(doneAtKill < n, `the kill came mid-run (${doneAtKill} of ${n} done)`)
    const results = await Promise.all(futures)
    let wrong = 0
    for (let i = 0; i < n; i++) if (results[i] !== i * 7) wrong++
    t.is(wrong, 0)
    t.false(cluster.workerPids.includes(victim))
    await waitFor(
      () => cluster.coordinator.core.workerCount === WORKERS - 1,
      'the coordinator to drop it',
    )
    // Its task processes do not outlive it.
    t.deepEqual((await leftAlive(itsPool)).map(describeProcess), [])
    cluster.addWorker()
    await cluster.waitForWorkers(WORKERS, 60_000)
  },
)

test.serial('a task whose workers keep dying fails with KilledWorkerError', async (t) => {
  const small = await startCluster({ workers: 2, procs: 1, coordinator: { allowedFailures: 2 } })
  t.teardown(() => small.close())
  const ex = await small.connect()
  t.teardown(() => ex.shutdown({ cancelFutures: true }))
  // Kills the worker daemon that runs it (the pool process's parent).
  const killer = ex.submit(() => process.kill(process.ppid, 'SIGKILL'))
  const error = await t.throwsAsync(killer, { instanceOf: KilledWorkerError })
  t.is(error.code, 'CP_ERR_KILLED_WORKER')
  t.is(error.workers.length, 2)
  t.regex(error.message, /2 workers that died/)
  t.regex(error.message, new RegExp(killer.key.replace(/[.*+?^${}()|[\]\\<>]/g, '\\$&')))
  // With no workers left, new tasks wait; they run once a worker joins.
  await waitFor(() => small.coordinator.core.workerCount === 0, 'both workers gone')
  const waiting = ex.submit(inc, 1)
  small.addWorker()
  t.is(await waiting, 2)
})

test.serial('a worker that stops sending heartbeats is removed, then reconnects', async (t) => {
  const c = await startCluster({
    workers: 2,
    procs: 1,
    coordinator: { workerTimeoutMs: 2000, heartbeatIntervalMs: 200 },
  })
  t.teardown(() => c.close())
  const ex = await c.connect()
  t.teardown(() => ex.shutdown({ cancelFutures: true }))
  const s = scratch(t)
  const a = ex.submit(gated, s.dir, 'a')
  const b = ex.submit(gated, s.dir, 'b')
  await s.until('a.started')
  await s.until('b.started')
  // Freeze the daemon that runs `a` (the pool process's parent): it goes silent, not away.
  const poolPid = Number(readFileSync(join(s.dir, 'a.started'), 'utf8'))
  const victim = c.workerPids.find((pid) => descendants(pid).includes(poolPid))!
  t.truthy(victim)
  const victimName = c.coordinator.status().workers.find((w) => w.pid === victim)!.name
  process.kill(victim, 'SIGSTOP')
  t.teardown(() => {
    try {
      process.kill(victim, 'SIGCONT')
    } catch {
      // already gone
    }
  })
  await waitFor(() => c.coordinator.core.workerCount === 1, 'the silent worker to be removed')
  // Its task goes back to the queue and runs on the other worker.
  s.open('a')
  s.open('b')
  t.deepEqual(await Promise.all([a, b]), ['a', 'b'])
  process.kill(victim, 'SIGCONT')
  await waitFor(() => c.coordinator.core.workerCount === 2, 'the worker to register again')
  t.true(c.coordinator.status().workers.some((w) => w.name === victimName && w.pid === victim))
  t.deepEqual(
    await Promise.all(Array.from({ length: 20 }, (_, i) => ex.submit(busy, i, 5))),
    Array.from({ length: 20 }, (_, i) => i * 7),
  )
})

test.serial('SIGTERM drains a worker: it finishes its running task and exits 0', async (t) => {
  const ex = await client(t)
  const s = scratch(t)
  const drainer = cluster.addWorker({ name: 'drainer' })
  await cluster.waitForWorkers(WORKERS + 1, 60_000)
  const onDrainer = ex.submit(task(gated, { workers: ['drainer'] }), s.dir, 'd')
  await s.until('d.started')
  const exited = once(drainer, 'exit')
  drainer.kill('SIGTERM')
  await waitFor(
    () =>
      cluster.coordinator.status().workers.find((w) => w.name === 'drainer')?.state !== 'running',
    'the worker to leave',
  )
  // New work goes elsewhere meanwhile.
  t.deepEqual(
    await Promise.all(Array.from({ length: 10 }, (_, i) => ex.submit(inc, i))),
    Array.from({ length: 10 }, (_, i) => i + 1),
  )
  s.open('d')
  t.is(await onDrainer, 'd')
  const [code] = (await exited) as [number | null]
  t.is(code, 0)
  await waitFor(() => cluster.coordinator.core.workerCount === WORKERS, 'the worker to be gone')
})

test.serial('no workers: tasks wait on the coordinator and run when one joins', async (t) => {
  const empty = await startCluster({ workers: 0 })
  t.teardown(() => empty.close())
  const ex = await empty.connect()
  t.teardown(() => ex.shutdown({ cancelFutures: true }))
  t.deepEqual(ex.cluster, { workers: 0, procs: 0 })
  const futures = Array.from({ length: 10 }, (_, i) => ex.submit(inc, i))
  await waitFor(() => empty.coordinator.status().tasks.queued === 10, 'ten queued tasks')
  t.false(futures.some((f) => f.done() || f.running()))
  empty.addWorker({ procs: 2 })
  t.deepEqual(
    await Promise.all(futures),
    Array.from({ length: 10 }, (_, i) => i + 1),
  )
})

test.serial(
  'a client that disconnects releases its tasks and aborts its running ones',
  async (t) => {
    const s = scratch(t)
    const clientsBefore = cluster.coordinator.status().coordinator.clients
    const count = 20
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        fileURLToPath(new URL('./fixtures/doomed-client.ts', import.meta.url)),
        cluster.url,
        s.dir,
        String(count),
      ],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
        env: { ...process.env, CLUSTERPOOL_TOKEN: cluster.token },
      },
    )
    t.teardown(() => child.kill('SIGKILL'))
    const [line] = (await once(createInterface({ input: child.stdout }), 'line')) as [string]
    t.regex(
      JSON.parse(line).clientId as string,
      /^c\d+-[0-9a-f]{6}$/,
      'unique to this start of the coordinator',
    )
    await waitFor(() => s.markers('.started').length === WORKERS, 'every process to run its tasks')
    const started = s.markers('.started')
    t.is(activeTasks(), count)
    t.is(cluster.coordinator.status().coordinator.clients, clientsBefore + 1)

    child.kill('SIGKILL')
    await waitFor(() => activeTasks() === 0, "the coordinator to release the client's tasks")
    t.is(cluster.coordinator.status().coordinator.clients, clientsBefore)
    for (const name of started) await s.until(`${name}.aborted`)
    t.deepEqual(s.markers('.started'), started, 'nothing else started')
    await waitFor(
      () => cluster.coordinator.status().workers.every((w) => w.running === 0 && w.queued === 0),
      'the workers to be idle',
    )
    // The cluster serves the next client.
    const ex = await client(t)
    t.is(await ex.submit(inc, 41), 42)
  },
)

test.serial('dependencies: futures as arguments, at the top level and nested', async (t) => {
  const ex = await client(t)
  const s = scratch(t)
  // A dependent submitted while its dependency is still running waits for it on the cluster.
  const root = ex.submit(gated, s.dir, 'root')
  const dependent = ex.submit((name: string) => `after ${name}`, root)
  await s.until('root.started')
  t.false(dependent.running(), 'the dependent is not handed to a worker before its dependency ends')
  s.open('root')
  t.is(await dependent, 'after root')

  // A chain of 30, each step taking the previous future.
  let step: Future<number> = ex.submit(inc, 0)
  for (let i = 0; i < 30; i++) step = ex.submit(inc, step)
  t.is(await step, 31)

  // Futures inside arrays, objects, Maps and Sets, and the same future twice.
  const a = ex.submit(inc, 1) // 2
  const b = ex.submit((x: number, y: number) => x * y, a, a) // 4
  const nested = ex.submit(
    (arg: {
      list: number[]
      obj: { deep: number[] }
      map: Map<string, number>
      set: Set<number>
    }) =>
      arg.list.concat(arg.obj.deep, [...arg.map.values()], [...arg.set]).reduce((p, q) => p + q, 0),
    { list: [a, b], obj: { deep: [b, 10] }, map: new Map([['a', a]]), set: new Set([b]) } as never,
  )
  t.is(await nested, 2 + 4 + 4 + 10 + 2 + 4)

  // A diamond.
  const top = ex.submit(inc, 10)
  const left = ex.submit((x: number) => x * 2, top)
  const right = ex.submit((x: number) => x * 3, top)
  t.is(await ex.submit((l: number, r: number) => l + r, left, right), 22 + 33)
})

test.serial(
  'a failing or cancelled dependency fails its dependents with DependencyError',
  async (t) => {
    const ex = await client(t)
    const s = scratch(t)
    const root = ex.submit(gated, s.dir, 'root', true)
    const child = ex.submit((name: string) => name, root)
    const grandchild = ex.submit((names: string[]) => names.join(), [child] as never)
    s.open('root')
    const rootError = await t.throwsAsync(root)
    t.is(rootError.message, 'gate root failed')
    const childError = await t.throwsAsync(child, { instanceOf: DependencyError })
    t.is(childError.code, 'CP_ERR_DEPENDENCY_FAILED')
    t.is(childError.dependency, root.key)
    t.true(childError.message.includes(root.key), childError.message)
    const grandError = await t.throwsAsync(grandchild, { instanceOf: DependencyError })
    t.true([root.key, child.key].includes(grandError.dependency), grandError.message)

    // A dependency that had already failed on this side fails the dependent at once.
    const late = ex.submit((x: string) => x, root)
    const lateError = await t.throwsAsync(late, { instanceOf: DependencyError })
    t.is(lateError.dependency, root.key)

    // A cancelled dependency.
    const blockers = Array.from({ length: WORKERS * 4 }, (_, i) => ex.submit(gated, s.dir, `b${i}`))
    await waitFor(() => s.markers('.started').length >= WORKERS, 'busy processes')
    const doomed = ex.submit(gated, s.dir, 'doomed')
    const orphan = ex.submit((x: string) => x, doomed)
    t.true(doomed.cancel())
    const orphanError = await t.throwsAsync(orphan, { instanceOf: DependencyError })
    t.is(orphanError.dependency, doomed.key)
    t.regex(orphanError.message, /cancel/)
    for (let i = 0; i < blockers.length; i++) s.open(`b${i}`)
    await Promise.all(blockers)
    t.false(s.markers('.started').includes('doomed'))
  },
)

test.serial('several clients share the cluster; each sees only its own futures', async (t) => {
  const x = await client(t, 'x')
  const y = await client(t, 'y')
  const embedded = cluster.executor()
  t.teardown(() => embedded.shutdown({ cancelFutures: true }))
  t.is(new Set([x.clientId, y.clientId, embedded.clientId]).size, 3)
  t.true(cluster.coordinator.status().coordinator.clients >= 3)
  const tag = (who: string, i: number): string => `${who}${i}`
  // Client ids start at 1 on every connection: the same ids must not cross.
  const fx = Array.from({ length: 200 }, (_, i) => x.submit(tag, 'x', i))
  const fy = Array.from({ length: 200 }, (_, i) => y.submit(tag, 'y', i))
  const fe = Array.from({ length: 200 }, (_, i) => embedded.submit(tag, 'e', i))
  t.deepEqual(
    await Promise.all(fx),
    Array.from({ length: 200 }, (_, i) => `x${i}`),
  )
  t.deepEqual(
    await Promise.all(fy),
    Array.from({ length: 200 }, (_, i) => `y${i}`),
  )
  t.deepEqual(
    await Promise.all(fe),
    Array.from({ length: 200 }, (_, i) => `e${i}`),
  )

  // One client's shutdown and cancels leave the others' tasks alone.
  const s = scratch(t)
  const ys = y.submit(gated, s.dir, 'y-task')
  const xs = x.submit(gated, s.dir, 'x-task')
  await s.until('y-task.started')
  await s.until('x-task.started')
  // Started on its worker is not yet running for its client: the `running` notice may still be
  // on its way, and a future cancelled before it arrives is cancelled, not aborted.
  await waitFor(() => xs.running(), 'x-task to show running')
  await x.shutdown({ cancelFutures: true })
  await s.until('x-task.aborted')
  s.open('y-task')
  t.is(await ys, 'y-task')
  await t.throwsAsync(xs, { instanceOf: AbortedError })

  // A future of another client is waited for on this side, then its value is sent.
  const fromEmbedded = embedded.submit(inc, 99)
  t.is(await y.submit(inc, fromEmbedded), 101)
})
