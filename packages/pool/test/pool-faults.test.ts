// TaskPool when children die: process.exit in a task, kill -9 from outside, uncaught errors,
// timeouts, memory limits. The pool must replace the child, attribute the death to the task
// that was running, keep results computed before it, and rerun what never started.
import test from 'ava'

import { PoolHarness, errorOf, isAlive, sleep, valueOf, waitFor } from './fixtures/pool-harness.js'

const KINDS = ['process', 'thread'] as const

/** A fast function that exits its process when asked to: `x === 'die'`. */
const maybeExit = (x: number | string): number | string => {
  if (x === 'die') process.exit(3)
  return x
}

for (const kind of KINDS) {
  test.serial(`${kind}: process.exit(3) in a task fails it; the pool keeps going`, async (t) => {
    const h = new PoolHarness({ kind, maxWorkers: 1 })
    // Measured fast, so the next ones go to the child in one batch.
    for (let i = 0; i < 3; i++) valueOf(await h.run(maybeExit, [i]).outcome)
    const before = Array.from({ length: 10 }, (_, i) => h.run(maybeExit, [i]))
    const dying = h.run(maybeExit, ['die'])
    const after = Array.from({ length: 10 }, (_, i) => h.run(maybeExit, [100 + i]))
    const error = errorOf(await dying.outcome)
    t.is(error.name, 'WorkerDiedError')
    t.is(error.code, 'CP_ERR_WORKER_DIED')
    t.is(error.message, `the ${kind} running task ${dying.id} (maybeExit) exited with code 3`)
    t.like(error.props, { exitCode: 3, signal: null })
    // Results from before the exit are kept; tasks dispatched behind it ran on a new child.
    t.deepEqual(
      await Promise.all(before.map(async (r) => valueOf(await r.outcome))),
      Array.from({ length: 10 }, (_, i) => i),
    )
    t.deepEqual(
      await Promise.all(after.map(async (r) => valueOf(await r.outcome))),
      Array.from({ length: 10 }, (_, i) => 100 + i),
    )
    t.is(h.internals().spawned, 2)
    await h.pool.close()
    t.deepEqual(h.violations, [])
    t.like(h.pool.stats, { completed: 23, failed: 1 })
  })

  test.serial(`${kind}: a child that cannot start fails one task per attempt`, async (t) => {
    const h = new PoolHarness({ kind, maxWorkers: 1, execArgv: ['--no-such-flag-for-clusterpool'] })
    const runs = [h.run(() => 1), h.run(() => 2), h.run(() => 3)]
    for (const r of runs) {
      const error = errorOf(await r.outcome)
      t.is(error.name, 'WorkerDiedError')
      t.regex(
        error.message,
        new RegExp(`^the ${kind} running task ${r.id} \\(.*\\) (exited|ended)`),
      )
    }
    t.is(h.internals().spawned, 3)
    await h.pool.close()
    t.deepEqual(h.violations, [])
  })

  test.serial(`${kind}: an uncaught exception from a task's leftovers`, async (t) => {
    const h = new PoolHarness({ kind, maxWorkers: 1 })
    const lateThrow = () => {
      setTimeout(() => {
        throw new Error('late boom')
      }, 1)
      return new Promise((resolve) => setTimeout(resolve, 5_000))
    }
    const { id, outcome } = h.run(lateThrow)
    const error = errorOf(await outcome)
    t.is(error.name, 'WorkerDiedError')
    t.regex(
      error.message,
      new RegExp(
        `^the ${kind} running task ${id} \\(lateThrow\\) exited with code 1 after an uncaught exception: Error: late boom$`,
      ),
    )
    t.is(error.cause?.message, 'late boom')
    t.is(valueOf(await h.run(() => 'next').outcome), 'next')
    await h.pool.close()
  })

  test.serial(`${kind}: an unhandled rejection, and a crash between tasks`, async (t) => {
    const h = new PoolHarness({ kind, maxWorkers: 1 })
    const floating = () => {
      void Promise.reject(new RangeError('nobody listens'))
      return new Promise((resolve) => setTimeout(resolve, 5_000))
    }
    const error = errorOf(await h.run(floating).outcome)
    t.regex(error.message, /after an unhandled promise rejection: RangeError: nobody listens$/)
    // This task succeeds, and its leftover kills the child after it: no task is blamed.
    const leaves = () => {
      setTimeout(() => {
        throw new Error('after the fact')
      }, 20)
      return 'done'
    }
    t.is(valueOf(await h.run(leaves).outcome), 'done')
    await waitFor(() => h.pool.stats.workers === 0, 'the child to die')
    t.is(valueOf(await h.run(() => 'still serving').outcome), 'still serving')
    t.is(h.internals().spawned, 3)
    await h.pool.close()
    t.deepEqual(h.violations, [])
    t.like(h.pool.stats, { completed: 2, failed: 1 })
  })

  test.serial(`${kind}: a task past its timeout is killed with its child`, async (t) => {
    const h = new PoolHarness({ kind, maxWorkers: 1, taskTimeoutMs: 60_000 })
    const spin = () => {
      for (;;) {
        // A synchronous loop: only killing the child stops it.
      }
    }
    const started = Date.now()
    const error = errorOf(await h.run(spin, [], { timeoutMs: 300 }).outcome)
    t.true(Date.now() - started >= 290)
    t.is(error.name, 'TaskTimeoutError')
    t.is(error.code, 'CP_ERR_TASK_TIMEOUT')
    t.like(error.props, { timeoutMs: 300 })
    // The pool-wide default applies when the task has none.
    const h2 = new PoolHarness({ kind, maxWorkers: 1, taskTimeoutMs: 200 })
    t.is(errorOf(await h2.run(spin).outcome).name, 'TaskTimeoutError')
    await h2.pool.close()
    // Replaced: the next task runs on a new child.
    t.is(valueOf(await h.run(() => 'after').outcome), 'after')
    t.is(h.internals().spawned, 2)
    await h.pool.close()
  })

  test.serial(`${kind}: the timeout counts from the start, not from submit`, async (t) => {
    const h = new PoolHarness({ kind, maxWorkers: 1 })
    const wait = (ms: number) => new Promise((resolve) => setTimeout(() => resolve(ms), ms))
    const first = h.run(wait, [1_500])
    const second = h.run(wait, [50], { timeoutMs: 1_000 })
    t.is(valueOf(await first.outcome), 1_500)
    t.is(valueOf(await second.outcome), 50)
    await h.pool.close()
  })

  test.serial(`${kind}: memoryLimitMb bounds the child's heap`, async (t) => {
    const h = new PoolHarness({ kind, maxWorkers: 1, memoryLimitMb: 32 })
    const heapLimit = async () => (await import('node:v8')).getHeapStatistics().heap_size_limit
    const limit = valueOf(await h.run(heapLimit).outcome) as number
    t.true(limit < 100 * 1024 * 1024, `heap_size_limit ${limit}`)
    if (kind === 'thread') {
      // A process over the limit dies by SIGABRT (with a core dump where those are on), so only
      // a thread is run out of memory here.
      const hog = () => {
        const keep: number[][] = []
        for (;;) keep.push(new Array<number>(100_000).fill(1))
      }
      const { id, outcome } = h.run(hog)
      const error = errorOf(await outcome)
      t.is(error.name, 'WorkerDiedError')
      t.is(
        error.message,
        `the thread running task ${id} (hog) ran out of memory (memoryLimitMb: 32)`,
      )
      t.is(valueOf(await h.run(() => 1).outcome), 1)
    }
    await h.pool.close()
  })
}

test.serial('process: kill -9 from outside while a task runs', async (t) => {
  const h = new PoolHarness({ kind: 'process', maxWorkers: 2 })
  const forever = () => new Promise(() => {})
  const { id, outcome } = h.run(forever)
  const queued = h.run((x: number) => x, [5])
  await waitFor(() => h.starts.includes(id), 'the task to start')
  const [pid] = h.childPids()
  t.truthy(pid)
  await sleep(200)
  process.kill(pid!, 'SIGKILL')
  const error = errorOf(await outcome)
  t.is(error.name, 'WorkerDiedError')
  t.is(error.message, `the process running task ${id} (forever) was killed by signal SIGKILL`)
  t.like(error.props, { exitCode: null, signal: 'SIGKILL' })
  t.is(valueOf(await queued.outcome), 5)
  t.false(isAlive(pid!))
  t.is(valueOf(await h.run(() => 'after').outcome), 'after')
  await h.pool.close()
  t.deepEqual(h.violations, [])
})
