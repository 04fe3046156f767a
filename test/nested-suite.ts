// Tasks that submit tasks (issue 11), written once and run unchanged on every executor kind:
// ThreadPoolExecutor, ProcessPoolExecutor, ClusterExecutor over WebSocket, and the embedded
// coordinator. Everything is real: task processes or threads, sockets, worker daemons.
//
// Task functions here are shipped as source, so each is self-contained: it reaches its own
// executor through the `currentTask()` global, and imports `clusterpool` inside itself when it
// needs `asCompleted` or `wait`. A recursive task is a named function expression, so that it can
// submit itself.
import test, { type ExecutionContext } from 'ava'
import {
  DeadlockError,
  DescendantLimitError,
  ProcessPoolExecutor,
  ThreadPoolExecutor,
  type BaseExecutor,
  type CurrentTask,
  type LocalCluster,
} from 'clusterpool'

import { startCluster } from './helpers/cluster.js'
import type { ExecutorKind } from './helpers/executors.js'
import { scratch } from './suite/shared.js'

declare const currentTask: () => CurrentTask

/** Descendants a root may have in this suite: fib(12) has 464, a runaway hits the cap soon. */
const MAX_DESCENDANTS = 600

// ─── task functions ────────────────────────────────────────────────────────────────────────

/** The seed's second program: a task on a one-slot executor submits to it and waits. */
const waitOnFuture = async (): Promise<number> => {
  const f = currentTask().executor.submit((a: number, b: number) => a ** b, 5, 2)
  return await f
}

/** The seed's first program: `a` submits `b` with its own future as b's argument, then awaits b. */
const waitOnB = async (): Promise<string> => {
  const me = currentTask()
  const b = me.executor.submit((a: unknown) => a, me.self)
  try {
    await b
    return 'no deadlock?'
  } catch (error) {
    const e = error as DeadlockError
    return JSON.stringify({ name: e.name, code: e.code, message: e.message, cycle: e.cycle })
  }
}

const fib = async function fib(n: number): Promise<number> {
  if (n < 2) return n
  const ex = currentTask().executor
  const [a, b] = await Promise.all([ex.submit(fib, n - 1), ex.submit(fib, n - 2)])
  return a + b
}

/** `map` and `asCompleted` inside a task, imported inside it. */
const mapAndAsCompleted = async (n: number): Promise<{ mapped: number[]; completed: number[] }> => {
  const { asCompleted, wait } = await import('clusterpool')
  const ex = currentTask().executor
  const mapped: number[] = []
  for await (const v of ex.map(
    (x: number) => x * x,
    Array.from({ length: n }, (_, i) => i),
  ))
    mapped.push(v)
  const futures = Array.from({ length: n }, (_, i) => ex.submit((x: number) => x + 100, i))
  const completed: number[] = []
  // Each future as it completes (`next()` by hand: `for await` would type it as its value).
  const inOrder = asCompleted(futures)
  for (let r = await inOrder.next(); r.done !== true; r = await inOrder.next())
    completed.push(await r.value)
  const { done, notDone } = await wait(futures)
  if (done.size !== n || notDone.size !== 0) throw new Error('wait did not see every future done')
  return { mapped, completed: completed.sort((a, b) => a - b) }
}

/** A parent whose children wait on gates that never open; it awaits them all. */
const parentOfGated = async (dir: string, n: number): Promise<string> => {
  const gated = async (dir: string, name: string): Promise<string> => {
    const signal = currentTask().signal
    const fs = await import('node:fs')
    fs.writeFileSync(`${dir}/${name}.started`, String(process.pid))
    const deadline = Date.now() + 60_000
    while (!fs.existsSync(`${dir}/${name}`)) {
      if (signal.aborted) {
        fs.writeFileSync(`${dir}/${name}.aborted`, '')
        throw signal.reason
      }
      if (Date.now() > deadline) throw new Error(`gate ${name} never opened`)
      await new Promise((resolve) => setTimeout(resolve, 10))
    }
    return name
  }
  const fs = await import('node:fs')
  const ex = currentTask().executor
  const children = Array.from({ length: n }, (_, i) => ex.submit(gated, dir, `child-${i}`))
  fs.writeFileSync(`${dir}/parent.waiting`, '')
  await Promise.all(children)
  return 'all children finished'
}

/** One child of three fails: only the parent's await of it throws. */
const oneChildFails = async (): Promise<string[]> => {
  const ex = currentTask().executor
  const ok = (x: number): number => x * 10
  const bad = (): never => {
    throw new RangeError('child says no')
  }
  const results: string[] = []
  for (const f of [ex.submit(ok, 1), ex.submit(bad), ex.submit(ok, 2)]) {
    try {
      results.push(String(await f))
    } catch (error) {
      results.push(`${(error as Error).name}: ${(error as Error).message}`)
    }
  }
  return results
}

/** A recursion without end: each task submits the next and waits for it. */
const runaway = async function runaway(depth: number): Promise<number> {
  return await currentTask().executor.submit(runaway, depth + 1)
}

/** Three tasks in a cycle: a awaits b, b depends on c, c depends on a. */
const threeCycle = async (): Promise<string> => {
  const me = currentTask()
  const ex = me.executor
  const c = ex.submit((x: unknown) => x, me.self)
  const b = ex.submit((x: unknown) => x, c)
  try {
    await b
    return 'no deadlock?'
  } catch (error) {
    const e = error as DeadlockError
    return JSON.stringify({ name: e.name, cycle: e.cycle, edges: e.edges, message: e.message })
  }
}

/** Awaiting its own future. */
const awaitSelf = async (): Promise<string> => {
  try {
    await currentTask().self
    return 'no deadlock?'
  } catch (error) {
    return (error as Error).name
  }
}

/** A child returns a large value; the parent reduces it to its length and checksum. */
const bigChild = async (bytes: number): Promise<{ length: number; sum: number }> => {
  const child = (n: number): Uint8Array => {
    const out = new Uint8Array(n)
    for (let i = 0; i < n; i++) out[i] = i % 251
    return out
  }
  const value = await currentTask().executor.submit(child, bytes)
  let sum = 0
  for (const b of value) sum = (sum + b) % 1_000_003
  return { length: value.length, sum }
}

/** scatter and dependencies inside a task: the children run on a value it put on the cluster. */
const scatterInside = async (): Promise<number[]> => {
  const ex = currentTask().executor
  const table = ex.scatter([10, 20, 30, 40])
  const parts = [0, 1, 2, 3].map((i) => ex.submit((t: number[], j: number) => t[j]! + j, table, i))
  return await ex.gather(parts)
}

/** Shuts its own executor down: its queued children are cancelled, and it refuses more. */
const shutsItsExecutor = async (): Promise<{ first: number; cancelled: number; after: string }> => {
  const ex = currentTask().executor
  const first = await ex.submit((x: number) => x + 1, 1)
  const sleepy = (ms: number): Promise<number> =>
    new Promise((resolve) => setTimeout(() => resolve(ms), ms))
  const queued = Array.from({ length: 20 }, () => ex.submit(sleepy, 200))
  await ex.shutdown({ wait: false })
  let after = 'accepted'
  try {
    ex.submit((x: number) => x, 1)
  } catch (error) {
    after = (error as Error).name
  }
  return { first, cancelled: queued.filter((f) => f.cancelled()).length, after }
}

/** A child that fails on its first attempt and is retried: its arguments come again. */
const retriedChild = async (): Promise<unknown> => {
  const { task } = await import('clusterpool')
  const child = (x: number, y: string): { x: number; y: string; attempt: number } => {
    const attempt = currentTask().attempt
    if (attempt < 2) throw new Error('first attempt fails')
    return { x, y, attempt }
  }
  return await currentTask().executor.submit(task(child, { retries: 2 }), 42, 'hello')
}

/** Not `async`, returns a promise: `currentTask()` is still this task after its wait. */
const plainThen = (): PromiseLike<boolean> => {
  const me = currentTask()
  return me.executor
    .submit((x: number) => x, 1)
    .then(() => currentTask() !== undefined && currentTask().id === me.id)
}

/** Waits for a child, then is stuck in its own code past its timeoutMs. */
const stuckAfterWait = async (dir: string): Promise<void> => {
  const fs = await import('node:fs')
  await currentTask().executor.submit((x: number) => x, 1)
  const { threadId } = await import('node:worker_threads')
  fs.writeFileSync(`${dir}/stuck.pid`, `${process.pid}:${threadId}`)
  const until = Date.now() + 30_000
  while (Date.now() < until && !fs.existsSync(`${dir}/release`)) {
    // busy: a timeout must end it from outside
  }
}

/** Which process, or thread, runs it. */
const pid = async (): Promise<string> =>
  `${process.pid}:${(await import('node:worker_threads')).threadId}`

// ─── the suite ─────────────────────────────────────────────────────────────────────────────

interface Kit {
  /** An executor with two slots, and one with a single slot. */
  make(slots: 1 | 2): Promise<BaseExecutor>
  readonly cluster: (slots: 1 | 2) => LocalCluster | undefined
  teardown(): Promise<void>
}

async function nestedKit(kind: ExecutorKind): Promise<Kit> {
  const made: BaseExecutor[] = []
  const clusters = new Map<1 | 2, LocalCluster>()
  const clusterOf = async (slots: 1 | 2): Promise<LocalCluster> => {
    let c = clusters.get(slots)
    if (c === undefined) {
      c = await startCluster({
        workers: slots,
        procs: 1,
        coordinator: { maxDescendants: MAX_DESCENDANTS },
      })
      clusters.set(slots, c)
    }
    return c
  }
  const options = { maxDescendants: MAX_DESCENDANTS }
  return {
    async make(slots) {
      let ex: BaseExecutor
      switch (kind) {
        case 'thread':
          ex = new ThreadPoolExecutor({ maxWorkers: slots, ...options })
          break
        case 'process':
          ex = new ProcessPoolExecutor({ maxWorkers: slots, ...options })
          break
        case 'cluster':
          ex = await (await clusterOf(slots)).connect({ name: 'nested-suite' })
          break
        case 'embedded':
          ex = (await clusterOf(slots)).executor()
          break
      }
      made.push(ex)
      return ex
    },
    cluster: (slots) => clusters.get(slots),
    async teardown() {
      await Promise.all(made.map((ex) => ex.shutdown({ cancelFutures: true }).catch(() => {})))
      for (const c of clusters.values()) await c.close()
    },
  }
}

/** Registers the nested-task suite for one executor kind. */
export function nestedSuite(kind: ExecutorKind): void {
  let kit: Kit | undefined
  test.before(async () => {
    kit = await nestedKit(kind)
  })
  test.after.always(async () => {
    await kit?.teardown()
  })
  const it = (
    title: string,
    slots: 1 | 2,
    body: (t: ExecutionContext, ex: BaseExecutor) => Promise<void>,
  ): void => {
    test.serial(`${kind}: ${title}`, async (t) => {
      const ex = await kit!.make(slots)
      t.teardown(() => ex.shutdown({ cancelFutures: true }))
      await body(t, ex)
    })
  }

  it(
    'the seed program that waits on its own one-slot executor completes with 25',
    1,
    async (t, ex) => {
      t.is(await ex.submit(waitOnFuture).result(30_000), 25)
      // Twice in a row, and two at once: the one slot is given back each time.
      const both = await Promise.all([ex.submit(waitOnFuture), ex.submit(waitOnFuture)])
      t.deepEqual(both, [25, 25])
    },
  )

  it(
    'the seed program whose futures wait on each other fails with DeadlockError, fast',
    2,
    async (t, ex) => {
      const started = performance.now()
      const report = JSON.parse(await ex.submit(waitOnB).result(30_000)) as {
        name: string
        code: string
        message: string
        cycle: { key: string; label: string }[]
      }
      const elapsedMs = performance.now() - started
      t.is(report.name, 'DeadlockError')
      t.is(report.code, 'CP_ERR_DEADLOCK')
      t.is(report.cycle.length, 2)
      t.regex(report.message, /would await .* which depends on/)
      t.log(`DeadlockError after ${elapsedMs.toFixed(0)} ms`)
      // Detected when the wait is made, not by a timeout.
      t.true(elapsedMs < 20_000)
      // The executor keeps working.
      t.is(await ex.submit((x: number) => x + 1, 41), 42)
    },
  )

  it('recursive fibonacci(12) on two slots', 2, async (t, ex) => {
    t.is(await ex.submit(fib, 12).result(120_000), 144)
  })

  it('map and asCompleted inside a task', 2, async (t, ex) => {
    const { mapped, completed } = await ex.submit(mapAndAsCompleted, 8).result(60_000)
    t.deepEqual(mapped, [0, 1, 4, 9, 16, 25, 36, 49])
    t.deepEqual(completed, [100, 101, 102, 103, 104, 105, 106, 107])
  })

  it('cancelling a parent cancels its waiting children', 2, async (t, ex) => {
    const s = scratch(t)
    const parent = ex.submit(parentOfGated, s.dir, 3)
    await s.until('parent.waiting')
    await s.until('child-0.started')
    parent.cancel()
    const error = await parent.exception(30_000)
    t.truthy(error, 'the parent ended with an error')
    // Every child either never started or saw its abort signal; none is left running.
    for (const i of [0, 1, 2]) {
      if (s.has(`child-${i}.started`)) await s.until(`child-${i}.aborted`)
    }
    t.pass()
    t.is(await ex.submit((x: number) => x * 2, 21), 42)
  })

  it('a failing child fails only its parent await', 2, async (t, ex) => {
    t.deepEqual(await ex.submit(oneChildFails).result(30_000), [
      '10',
      'RangeError: child says no',
      '20',
    ])
  })

  it('a runaway recursion hits the descendant cap, and the executor goes on', 2, async (t, ex) => {
    const error = await ex.submit(runaway, 0).exception(120_000)
    t.truthy(error)
    t.is(error?.name, 'DescendantLimitError')
    t.true(error instanceof DescendantLimitError)
    t.regex(error?.message ?? '', /maxDescendants/)
    t.is(await ex.submit((x: number) => x - 1, 43), 42)
  })

  it(
    'a three-task cycle through an await and two dependencies fails with DeadlockError',
    2,
    async (t, ex) => {
      const report = JSON.parse(await ex.submit(threeCycle).result(30_000)) as {
        name: string
        cycle: { key: string; label: string }[]
        edges: string[]
        message: string
      }
      t.is(report.name, 'DeadlockError')
      t.is(report.cycle.length, 3)
      t.deepEqual(report.edges, ['await', 'dependency', 'dependency'])
      for (const task of report.cycle) t.true(report.message.includes(task.key))
    },
  )

  it('awaiting its own future is a DeadlockError', 1, async (t, ex) => {
    t.is(await ex.submit(awaitSelf).result(30_000), 'DeadlockError')
  })

  it("a child's large result reaches its parent, and not the client", 2, async (t, ex) => {
    const bytes = 1 << 20
    const before = kit!.cluster(2)?.coordinator.core.transfers.bytes ?? 0
    const got = await ex.submit(bigChild, bytes).result(60_000)
    let sum = 0
    for (let i = 0; i < bytes; i++) sum = (sum + (i % 251)) % 1_000_003
    t.deepEqual(got, { length: bytes, sum })
    const cluster = kit!.cluster(2)
    if (cluster !== undefined) {
      // Held on the child's worker, relayed by the coordinator to the parent's worker only.
      t.true(cluster.coordinator.core.transfers.bytes - before >= bytes)
    }
  })

  it('scatter, dependencies and gather inside a task', 2, async (t, ex) => {
    t.deepEqual(await ex.submit(scatterInside).result(30_000), [10, 21, 32, 43])
  })

  it("shutdown() of a task's executor cancels only what that task submitted", 2, async (t, ex) => {
    const out = await ex.submit(shutsItsExecutor).result(60_000)
    t.is(out.first, 2)
    t.true(out.cancelled > 0, `queued children were cancelled: ${JSON.stringify(out)}`)
    t.is(out.after, 'ExecutorShutdownError')
    t.is(await ex.submit((x: number) => x * 3, 14), 42, 'the executor itself goes on')
  })

  it('a retried child gets its arguments again', 2, async (t, ex) => {
    t.deepEqual(await ex.submit(retriedChild).result(60_000), { x: 42, y: 'hello', attempt: 2 })
  })

  it('currentTask() is right after the wait of a task that is not async', 1, async (t, ex) => {
    t.true(await ex.submit(plainThen).result(30_000))
    t.true(await ex.submit(plainThen).result(30_000))
  })

  it('a task stuck after its wait is ended by its timeoutMs, process and all', 1, async (t, ex) => {
    const s = scratch(t)
    const { task } = await import('clusterpool')
    const error = await ex
      .submit(task(stuckAfterWait, { timeoutMs: 1500 }), s.dir)
      .exception(60_000)
    t.is(error?.name, 'TaskTimeoutError')
    s.open('release')
    const stuck = (await import('node:fs')).readFileSync(`${s.dir}/stuck.pid`, 'utf8')
    // The one slot's process (or thread) was killed: the next task runs in a new one.
    t.not(await ex.submit(pid).result(30_000), stuck)
  })

  it(
    'DeadlockError and DescendantLimitError are exported classes with stable codes',
    1,
    async (t) => {
      t.is(new DeadlockError('x').code, 'CP_ERR_DEADLOCK')
      t.is(new DescendantLimitError('x').code, 'CP_ERR_DESCENDANT_LIMIT')
      await Promise.resolve()
    },
  )
}
