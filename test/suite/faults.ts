// The shared executor suite: scale and faults (10,000 tasks, process.exit, SIGKILL from
// outside, task timeouts, retries).
import { readFileSync } from 'node:fs'
import { join } from 'node:path'

import { TaskTimeoutError, WorkerDiedError, task, type TaskContext } from 'clusterpool'

import { double, gated, scratch, type Suite } from './shared.js'

/** A global inside task processes and threads (see `currentTask` in @clusterpool/client). */
declare const currentTask: () => TaskContext

export function faultTests(suite: Suite): void {
  // ─── scale and faults ───────────────────────────────────────────────────────────────────────

  suite.it('10,000 tasks: none lost, none duplicated', async (t, ex) => {
    const n = 10_000
    const futures = Array.from({ length: n }, (_, i) =>
      ex.submit((x: number): [number, number] => [x, x * 3], i),
    )
    const results = await Promise.all(futures)
    t.is(results.length, n)
    const seen = new Set<number>()
    let wrong = 0
    for (let i = 0; i < n; i++) {
      const [x, y] = results[i]!
      if (x !== i || y !== i * 3) wrong++
      seen.add(x)
    }
    t.is(wrong, 0)
    t.is(seen.size, n)
    let mapped = 0
    let index = 0
    for await (const v of ex.map(
      double,
      Array.from({ length: n }, (_, i) => i),
    )) {
      if (v === index * 2) mapped++
      index++
    }
    t.is(mapped, n)
  })

  suite.it(
    'a task that calls process.exit(3) fails with WorkerDiedError; work goes on',
    async (t, ex) => {
      const before = ex.submit(double, 1)
      const dying = ex.submit((code: number) => process.exit(code), 3)
      const error = await t.throwsAsync(dying, { instanceOf: WorkerDiedError })
      t.is(error.code, 'CP_ERR_WORKER_DIED')
      t.is(error.exitCode, 3)
      t.regex(error.message, /code 3/)
      t.is(await before, 2)
      t.deepEqual(
        await Promise.all(Array.from({ length: 10 }, (_, i) => ex.submit(double, i))),
        Array.from({ length: 10 }, (_, i) => i * 2),
      )
    },
  )

  if (suite.kind !== 'thread') {
    suite.it(
      'a task process killed with SIGKILL from outside fails its task; work goes on',
      async (t, ex) => {
        const s = scratch(t)
        const victim = ex.submit(gated, s.dir, 'victim')
        await s.until('victim.started')
        const pid = Number(readFileSync(join(s.dir, 'victim.started'), 'utf8'))
        t.true(pid > 0 && pid !== process.pid)
        process.kill(pid, 'SIGKILL')
        const error = await t.throwsAsync(victim, { instanceOf: WorkerDiedError })
        t.is(error.signal, 'SIGKILL')
        t.regex(error.message, /SIGKILL/)
        t.deepEqual(
          await Promise.all(Array.from({ length: 10 }, (_, i) => ex.submit(double, i))),
          Array.from({ length: 10 }, (_, i) => i * 2),
        )
      },
    )
  }

  suite.it('a task past its timeoutMs fails with TaskTimeoutError; work goes on', async (t, ex) => {
    const slow = task(() => new Promise((resolve) => setTimeout(resolve, 60_000)), {
      timeoutMs: 300,
    })
    const error = await t.throwsAsync(ex.submit(slow), { instanceOf: TaskTimeoutError })
    t.is(error.code, 'CP_ERR_TASK_TIMEOUT')
    t.is(error.timeoutMs, 300)
    t.is(await ex.submit(double, 6), 12)
  })

  suite.it('retries rerun a task whose function threw', async (t, ex) => {
    const flaky = (succeedOn: number): number => {
      const attempt = currentTask().attempt
      if (attempt < succeedOn) throw new Error(`attempt ${attempt} failed`)
      return attempt
    }
    t.is(await ex.submit(task(flaky, { retries: 2 }), 3), 3)
    const error = await t.throwsAsync(ex.submit(task(flaky, { retries: 1 }), 3))
    t.is(error.message, 'attempt 2 failed')
    t.is(await ex.submit(flaky, 1), 1)
  })
}
