// The two deadlocks of Python's concurrent.futures documentation, ported, and a recursive
// tree sum: tasks that submit tasks with `currentTask().executor`.
//
// Python hangs on both seed programs. clusterpool:
// - frees a task's slot while it awaits a future of its own executor, so a task on a one-slot
//   executor may submit to it and wait (the second program completes with 25);
// - keeps the wait-for graph, so a wait that closes a cycle fails at once with DeadlockError
//   naming the cycle (the first program), and the executor goes on.
import type { DeadlockError } from 'clusterpool'
import {
  ProcessPoolExecutor,
  ThreadPoolExecutor,
  type CurrentTask,
  type Executor,
} from 'clusterpool'

/** The global inside task processes and threads; the same as `currentTask` from clusterpool. */
declare const currentTask: () => CurrentTask

/**
 * Python:
 *   def wait_on_future():
 *       f = executor.submit(pow, 5, 2)
 *       print(f.result())              # never completes on max_workers=1
 */
export const waitOnFuture = async (): Promise<number> => {
  const f = currentTask().executor.submit((a: number, b: number) => a ** b, 5, 2)
  return await f
}

/**
 * Python:
 *   def wait_on_b(): time.sleep(5); print(b.result()); return 5
 *   def wait_on_a(): time.sleep(5); print(a.result()); return 6
 *   a = executor.submit(wait_on_b); b = executor.submit(wait_on_a)   # never finishes
 *
 * A task can only reach futures it made or was given, so the port has `a` make `b` with `a`'s
 * own future (`currentTask().self`) as b's argument, then await b.
 */
export const waitOnB = async (): Promise<string> => {
  const me = currentTask()
  const waitOnA = async (a: unknown): Promise<unknown> => a
  const b = me.executor.submit(waitOnA, me.self)
  try {
    return String(await b)
  } catch (error) {
    if ((error as Error).name !== 'DeadlockError') throw error
    return (error as DeadlockError).message
  }
}

/** Sums `from..to` by splitting the range into `branches` subtasks until it is small. */
export const treeSum = async function treeSum(
  from: number,
  to: number,
  branches: number,
): Promise<number> {
  if (to - from <= 1000) {
    let sum = 0
    for (let i = from; i < to; i++) sum += i
    return sum
  }
  const ex = currentTask().executor
  const step = Math.ceil((to - from) / branches)
  const parts = []
  for (let lo = from; lo < to; lo += step)
    parts.push(ex.submit(treeSum, lo, Math.min(to, lo + step), branches))
  const sums = await Promise.all(parts)
  return sums.reduce((a, b) => a + b, 0)
}

/** Both seed programs and the tree sum on `ex`, printed. */
export async function deadlockDemo(name: string, ex: Executor): Promise<void> {
  const t0 = performance.now()
  const value = await ex.submit(waitOnFuture).result(60_000)
  console.log(
    `${name}: wait_on_future (a task submits to its own executor and waits) → ${value} in ${ms(t0)} (Python hangs)`,
  )
  const t1 = performance.now()
  const message = await ex.submit(waitOnB).result(60_000)
  console.log(`${name}: a awaits b, b takes a's future → in ${ms(t1)} (Python hangs):`)
  console.log(`    ${message.slice(0, 200)}${message.length > 200 ? '…' : ''}`)
  const t2 = performance.now()
  const n = 1_000_000
  const sum = await ex.submit(treeSum, 0, n, 10).result(120_000)
  console.log(
    `${name}: a tree of tasks sums 0..${n - 1} = ${sum} (expected ${(n * (n - 1)) / 2}) in ${ms(t2)}`,
  )
}

/** The demo on a one-slot thread pool and a one-slot process pool. */
export async function localDeadlockDemo(): Promise<void> {
  for (const ex of [
    new ThreadPoolExecutor({ maxWorkers: 1 }),
    new ProcessPoolExecutor({ maxWorkers: 1 }),
  ]) {
    try {
      await deadlockDemo(`${ex.constructor.name}(maxWorkers: 1)`, ex)
    } finally {
      await ex.shutdown()
    }
  }
}

function ms(since: number): string {
  return `${(performance.now() - since).toFixed(0)} ms`
}
