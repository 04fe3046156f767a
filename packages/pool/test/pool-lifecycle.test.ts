// TaskPool lifecycle: abort, cancel, recycling, idle timeout, close (graceful and forced), and
// no child process outliving its pool or its parent.
import { spawn } from 'node:child_process'
import { once } from 'node:events'

import test from 'ava'

import { ErrorCode } from '@clusterpool/protocol'

import { PoolHarness, errorOf, isAlive, sleep, valueOf, waitFor } from './fixtures/pool-harness.js'

const KINDS = ['process', 'thread'] as const

/** Resolves when aborted, with what the task saw. */
const awaitAbort = () => {
  const { signal } = (
    globalThis as unknown as { currentTask(): { signal: AbortSignal } }
  ).currentTask()
  return new Promise((resolve) => {
    signal.addEventListener('abort', () => {
      const reason = signal.reason as { name: string; code: string }
      resolve([signal.aborted, reason.name, reason.code])
    })
  })
}

/** Waits `ms`, or throws the abort reason as soon as it is aborted. */
const cooperative = async (ms: number) => {
  const { signal } = (
    globalThis as unknown as { currentTask(): { signal: AbortSignal } }
  ).currentTask()
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(resolve, ms)
    signal.addEventListener('abort', () => {
      clearTimeout(timer)
      reject(signal.reason as Error)
    })
  })
  return ms
}

for (const kind of KINDS) {
  test.serial(`${kind}: abort fires the running task's signal`, async (t) => {
    const h = new PoolHarness({ kind, maxWorkers: 1 })
    const running = h.run(awaitAbort)
    await waitFor(() => h.starts.includes(running.id), 'the task to start')
    await sleep(100)
    h.pool.abort(running.id)
    t.deepEqual(valueOf(await running.outcome), [true, 'AbortedError', ErrorCode.ABORTED])
    // A task that throws the reason fails with AbortedError.
    const thrower = h.run(cooperative, [30_000])
    await waitFor(() => h.starts.includes(thrower.id), 'the task to start')
    await sleep(100)
    h.pool.abort(thrower.id)
    const error = errorOf(await thrower.outcome)
    t.is(error.name, 'AbortedError')
    t.is(error.message, `task ${thrower.id} was aborted while running`)
    t.is(h.internals().spawned, 1) // cooperative: no process was killed
    await h.pool.close()
  })

  test.serial(`${kind}: abort of a task not started yet fails it with AbortedError`, async (t) => {
    const h = new PoolHarness({ kind, maxWorkers: 1 })
    // Measured fast (returns at once for 0), so the next two go to the child together; the
    // first then waits 2 s, and the second waits in the child's queue.
    const napUnlessZero = (ms: number) =>
      ms === 0 ? 0 : new Promise((resolve) => setTimeout(() => resolve(ms), ms))
    valueOf(await h.run(napUnlessZero, [0]).outcome)
    valueOf(await h.run(napUnlessZero, [0]).outcome)
    const first = h.run(napUnlessZero, [2_000])
    const second = h.run(napUnlessZero, [0])
    await waitFor(() => h.starts.includes(second.id), 'both tasks to be dispatched')
    h.pool.abort(second.id)
    const error = errorOf(await second.outcome)
    t.is(error.name, 'AbortedError')
    t.regex(error.message, new RegExp(`^task ${second.id} .*aborted before it started$`))
    t.is(valueOf(await first.outcome), 2_000)
    // Aborting a task still queued in the pool fails it at once.
    const blocker = h.run(cooperative, [300])
    const queued = h.run(() => 'never', [])
    h.pool.abort(queued.id)
    t.is(errorOf(await queued.outcome).code, ErrorCode.ABORTED)
    t.is(valueOf(await blocker.outcome), 300)
    await h.pool.close()
    t.deepEqual(h.violations, [])
  })

  test.serial(`${kind}: tasks stuck behind a slow one are taken back`, async (t) => {
    const h = new PoolHarness({ kind, maxWorkers: 2 })
    const napUnlessZero = (ms: number) =>
      ms === 0 ? 0 : new Promise((resolve) => setTimeout(() => resolve(ms), ms))
    // Measured fast, so a dozen go out in two batches, one behind a task that takes 5 s.
    for (let i = 0; i < 3; i++) valueOf(await h.run(napUnlessZero, [0]).outcome)
    let slowDone = false
    const slow = h.run(napUnlessZero, [5_000])
    void slow.outcome.then(() => (slowDone = true))
    const fast = Array.from({ length: 12 }, () => h.run(napUnlessZero, [0]))
    await Promise.all(fast.map((r) => r.outcome))
    t.false(slowDone, 'the fast tasks did not wait for the slow one')
    t.is(valueOf(await slow.outcome), 5_000)
    await h.pool.close()
    t.deepEqual(h.violations, [])
    t.like(h.pool.stats, { completed: 16, failed: 0 })
  })

  test.serial(`${kind}: cancel removes a queued task without a trace`, async (t) => {
    const h = new PoolHarness({ kind, maxWorkers: 1 })
    const wait = (ms: number) => new Promise((resolve) => setTimeout(() => resolve(ms), ms))
    const running = h.run(wait, [300])
    const queued = h.run(wait, [1])
    await waitFor(() => h.starts.includes(running.id), 'the first task to start')
    t.true(h.pool.cancel(queued.id))
    h.cancelled(queued.id)
    t.false(h.pool.cancel(queued.id))
    t.false(h.pool.cancel(running.id))
    t.false(h.pool.cancel(12345))
    t.is(h.pool.stats.queued, 0)
    t.is(valueOf(await running.outcome), 300)
    await h.pool.close()
    t.false(h.starts.includes(queued.id))
    t.deepEqual(h.violations, [])
    t.like(h.pool.stats, { completed: 1, failed: 0 })
  })

  test.serial(`${kind}: maxTasksPerChild replaces the child after N tasks`, async (t) => {
    const h = new PoolHarness({ kind, maxWorkers: 1, maxTasksPerChild: 3 })
    const whoAmI = async () => `${process.pid}/${(await import('node:worker_threads')).threadId}`
    const runs = Array.from({ length: 7 }, () => h.run(whoAmI))
    const who = await Promise.all(runs.map(async (r) => valueOf(await r.outcome)))
    t.is(new Set(who.slice(0, 3)).size, 1)
    t.is(new Set(who.slice(3, 6)).size, 1)
    t.is(new Set(who).size, 3)
    t.is(h.internals().spawned, 3)
    await h.pool.close()
    t.deepEqual(h.violations, [])
  })

  test.serial(`${kind}: idleTimeoutMs stops idle children`, async (t) => {
    const h = new PoolHarness({ kind, maxWorkers: 2, idleTimeoutMs: 150 })
    await Promise.all([h.run(() => 1).outcome, h.run(() => 2).outcome])
    t.true(h.pool.stats.workers > 0)
    await waitFor(() => h.pool.stats.workers === 0, 'idle children to stop', 10_000)
    t.is(valueOf(await h.run(() => 'again').outcome), 'again')
    await h.pool.close()
  })

  test.serial(`${kind}: close() finishes queued and running tasks, then stops`, async (t) => {
    const h = new PoolHarness({ kind, maxWorkers: 2 })
    const wait = (i: number) => new Promise((resolve) => setTimeout(() => resolve(i), 20))
    const runs = Array.from({ length: 20 }, (_, i) => h.run(wait, [i]))
    await waitFor(() => h.pool.stats.workers > 0, 'a child to start')
    const pids = h.childPids()
    const closed = h.pool.close()
    t.is(h.pool.close(), closed, 'idempotent')
    const error = t.throws(() => h.run(() => 1))
    t.is((error as { code?: string }).code, ErrorCode.EXECUTOR_SHUTDOWN)
    await closed
    t.deepEqual(
      await Promise.all(runs.map(async (r) => valueOf(await r.outcome))),
      Array.from({ length: 20 }, (_, i) => i),
    )
    t.like(h.pool.stats, { queued: 0, inFlight: 0, workers: 0, completed: 20 })
    for (const pid of pids) t.false(isAlive(pid), `child ${pid} still alive`)
    t.deepEqual(h.violations, [])
  })

  test.serial(`${kind}: close({ force }) fails what is unfinished and kills`, async (t) => {
    const h = new PoolHarness({ kind, maxWorkers: 2 })
    const forever = () => new Promise(() => {})
    const running = [h.run(forever), h.run(forever)]
    const queued = [h.run(forever), h.run(forever)]
    await waitFor(() => running.every((r) => h.starts.includes(r.id)), 'two tasks to start')
    const pids = h.childPids()
    const graceful = h.pool.close() // would wait forever...
    await h.pool.close({ force: true }) // ...until forced
    await graceful
    for (const r of running) {
      const error = errorOf(await r.outcome)
      t.is(error.name, 'WorkerDiedError')
      t.is(
        error.message,
        `the pool was closed with force while task ${r.id} (forever) was running; its ${kind} was killed`,
      )
    }
    for (const q of queued) {
      const error = errorOf(await q.outcome)
      t.is(error.name, 'AbortedError')
      t.is(error.message, `the pool was closed with force before task ${q.id} (forever) started`)
    }
    t.like(h.pool.stats, { queued: 0, inFlight: 0, workers: 0, failed: 4 })
    for (const pid of pids) t.false(isAlive(pid), `child ${pid} still alive`)
    await h.pool.close({ force: true })
    t.deepEqual(h.violations, [])
  })
}

const parentScript = new URL('./fixtures/pool-parent.ts', import.meta.url)

/** Starts `pool-parent.ts` in its own process; resolves with it and its children's pids. */
async function startParent(kind: string, mode: string) {
  const parent = spawn(
    process.execPath,
    ['--import', import.meta.resolve('tsx'), parentScript.pathname, kind, mode],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  )
  const [line] = (await once(parent.stdout, 'data')) as [Buffer]
  const { pids } = JSON.parse(line.toString()) as { pids: number[] }
  return { parent, pids }
}

test.serial('a pool left open does not keep its parent alive, nor outlive it', async (t) => {
  const { parent, pids } = await startParent('process', 'forget')
  t.is(pids.length, 1)
  const [code] = (await once(parent, 'exit')) as [number]
  t.is(code, 0)
  await waitFor(() => !isAlive(pids[0]!), 'the child to die', 5_000)
  t.pass()
})

test.serial('children die when the parent exits mid-task', async (t) => {
  const { parent, pids } = await startParent('process', 'exit')
  await once(parent, 'exit')
  await waitFor(() => !isAlive(pids[0]!), 'the child to die', 5_000)
  t.pass()
})

test.serial('children exit when the parent is killed with SIGKILL', async (t) => {
  const { parent, pids } = await startParent('process', 'hang')
  t.true(isAlive(pids[0]!))
  parent.kill('SIGKILL')
  await once(parent, 'exit')
  await waitFor(() => !isAlive(pids[0]!), 'the orphaned child to exit', 10_000)
  t.pass()
})
