// P9, recovery from a coordinator restart (issue 12). Real processes: a `clusterpool
// coordinator` and two `clusterpool worker`s (2 procs each), and a client in this process.
// Reported, each run the same way and in the same bench run:
// - the time from the restarted coordinator listening to the first task completed after it;
// - the makespan of 10k tasks of ~1 ms with the coordinator SIGKILLed (and restarted at once)
//   when a third of them is done, against the makespan of the same 10k without a kill;
// - what a pending `submit` costs the client to keep for resubmission (heap bytes per task).
// The process helpers are the restart tests' (test/helpers/restart.ts), loaded at run time.
import type { Ctx } from '../harness/measure.js'
import { collectGarbage } from '../harness/measure.js'
import { median } from '../harness/stats.js'
import { errorText } from '../harness/timeout.js'

import type * as RestartHelpers from '../../../test/helpers/restart.js'

type Helpers = typeof RestartHelpers

const HELPERS = new URL('../../../test/helpers/restart.ts', import.meta.url).href
const SYSTEM = 'clusterpool coordinator + 2 workers × 2 procs (processes)'

const tick = async (x: number): Promise<number> => {
  await new Promise((resolve) => setTimeout(resolve, 1))
  return x + 1
}

const withArgs = (x: number, args: unknown[]): number => x + args.length

interface RunOutcome {
  readonly makespanMs: number
  /** Restarted coordinator listening → first completed task; undefined without a kill. */
  readonly recoveryMs?: number
  /** SIGKILL → restarted coordinator listening. */
  readonly downMs?: number
}

async function oneRun(h: Helpers, n: number, withKill: boolean): Promise<RunOutcome> {
  const { ClusterExecutor } = await import('clusterpool')
  const port = await h.freePort()
  let coordinator = await h.startCoordinatorProcess(port)
  const url = `ws://127.0.0.1:${port}`
  const workers = [h.startWorkerProcess(url, 'b0', 2), h.startWorkerProcess(url, 'b1', 2)]
  try {
    const ex = await ClusterExecutor.connect(url, { log: () => {} })
    try {
      // Both workers in: a warm-up map over their four processes.
      for (let tries = 0; ; tries++) {
        const pids = new Set(
          await Promise.all(Array.from({ length: 40 }, () => ex.submit(() => process.ppid))),
        )
        if (pids.size >= 2 || tries > 200) break
        await new Promise((resolve) => setTimeout(resolve, 100))
      }
      let done = 0
      let restartedAt = 0
      let firstAfter = 0
      const started = performance.now()
      const futures = Array.from({ length: n }, (_, i) => ex.submit(tick, i))
      for (const f of futures)
        f.addDoneCallback(() => {
          done++
          if (restartedAt > 0 && firstAfter === 0) firstAfter = performance.now()
        })
      let downMs: number | undefined
      if (withKill) {
        while (done < n / 3) await new Promise((resolve) => setTimeout(resolve, 5))
        const killedAt = performance.now()
        await h.kill(coordinator)
        coordinator = await h.startCoordinatorProcess(port)
        restartedAt = performance.now()
        downMs = restartedAt - killedAt
      }
      const values = await Promise.all(futures)
      const makespanMs = performance.now() - started
      for (const [i, v] of values.entries())
        if (v !== i + 1) throw new Error(`task ${i} returned ${v}, not ${i + 1}`)
      return withKill
        ? { makespanMs, recoveryMs: firstAfter - restartedAt, downMs: downMs ?? 0 }
        : { makespanMs }
    } finally {
      await ex.shutdown({ wait: false })
    }
  } finally {
    await Promise.all([h.kill(coordinator), ...workers.map(h.kill)])
  }
}

/** Heap bytes a pending submit adds when the executor keeps it for resubmission. */
async function bytesPerPending(h: Helpers, n: number): Promise<number> {
  const { ClusterExecutor } = await import('clusterpool')
  const port = await h.freePort()
  const coordinator = await h.startCoordinatorProcess(port) // no workers: everything stays pending
  const url = `ws://127.0.0.1:${port}`
  const heapOf = async (reconnectTimeoutMs: number): Promise<number> => {
    const ex = await ClusterExecutor.connect(url, { reconnectTimeoutMs, log: () => {} })
    try {
      const args = [1, 'a short argument']
      collectGarbage()
      const before = process.memoryUsage().heapUsed
      const futures = Array.from({ length: n }, (_, i) => ex.submit(withArgs, i, args))
      await new Promise((resolve) => setTimeout(resolve, 200))
      collectGarbage()
      const after = process.memoryUsage().heapUsed
      void futures.length
      return (after - before) / n
    } finally {
      await ex.shutdown({ wait: false, cancelFutures: true })
    }
  }
  try {
    const kept = await heapOf(60_000)
    const plain = await heapOf(0)
    return kept - plain
  } finally {
    await h.kill(coordinator)
  }
}

export async function recovery(ctx: Ctx): Promise<void> {
  const { config, results } = ctx
  let h: Helpers
  try {
    h = (await import(HELPERS)) as Helpers
  } catch (error) {
    results.skip({
      scenario: 'P9',
      system: SYSTEM,
      reason: `the process helpers did not load: ${errorText(error)}`,
    })
    return
  }
  const n = config.quick ? 3000 : 10_000
  const plain: RunOutcome[] = []
  const killed: RunOutcome[] = []
  const perPending: number[] = []
  try {
    for (let run = 0; run < config.runs; run++) {
      plain.push(await oneRun(h, n, false))
      killed.push(await oneRun(h, n, true))
      perPending.push(await bytesPerPending(h, config.quick ? 5000 : 20_000))
    }
  } catch (error) {
    results.fail({ scenario: 'P9', system: SYSTEM, error: errorText(error) })
    return
  }
  const add = (
    metric: string,
    unit: string,
    better: 'higher' | 'lower',
    values: number[],
    note?: string,
  ): void =>
    results.add({
      scenario: 'P9',
      system: SYSTEM,
      family: 'clusterpool',
      method: `${n} tasks of ~1 ms, coordinator SIGKILLed at 1/3 and restarted at once`,
      metric,
      n,
      unit,
      better,
      median: median(values),
      runs: values,
      ...(note === undefined ? {} : { note }),
    })
  add(
    'restart → first completed task',
    'ms',
    'lower',
    killed.map((o) => o.recoveryMs ?? Number.NaN),
  )
  add(
    'SIGKILL → restarted coordinator listening',
    'ms',
    'lower',
    killed.map((o) => o.downMs ?? Number.NaN),
    'process start of the new coordinator; a Kubernetes restart adds its own delay',
  )
  add(
    'makespan without a kill',
    'ms',
    'lower',
    plain.map((o) => o.makespanMs),
  )
  add(
    'makespan with one kill',
    'ms',
    'lower',
    killed.map((o) => o.makespanMs),
  )
  add(
    'makespan ratio (kill / no kill)',
    '×',
    'lower',
    killed.map((o, i) => o.makespanMs / plain[i]!.makespanMs),
  )
  add(
    'client memory kept per pending submit',
    'bytes',
    'lower',
    perPending,
    'heap with resubmission kept minus without, per pending task (args: [i, [1, "a short argument"]])',
  )
}
