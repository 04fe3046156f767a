import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'

import test from 'ava'

import { Scheduler } from '../src/scheduler/index.js'

/**
 * A sanity check at scale, not a benchmark: 1M queued tasks should cost well under 1 KB each
 * and drain without anything growing. Skipped by default (it takes ~10-20 s);
 * run with `CP_SCHEDULER_SCALE=1 npx ava test/scheduler-scale.test.ts`.
 */
const scale = process.env.CP_SCHEDULER_SCALE ? test : test.skip

setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as () => void

scale('1M tasks: memory per queued task, and a full drain', (t) => {
  const n = 1_000_000
  const s = new Scheduler()
  s.addWorker({ id: 'a', procs: 2 }, 0)
  s.addWorker({ id: 'b', procs: 2 }, 0)
  const keys = Array.from({ length: n }, (_, i) => `task-${i.toString(36).padStart(16, '0')}`)
  gc()
  const before = process.memoryUsage().heapUsed
  let t0 = performance.now()
  for (const key of keys) s.submit({ key, fnKey: 'noop', clientId: 'client' }, 0)
  const submitMs = performance.now() - t0
  gc()
  const perTask = (process.memoryUsage().heapUsed - before) / n
  t.log(
    `submit: ${submitMs.toFixed(0)} ms (${((submitMs * 1000) / n).toFixed(2)} µs/task), ${perTask.toFixed(0)} bytes/task`,
  )
  t.true(perTask < 1024, `${perTask} bytes per queued task`)
  t.is(s.taskCounts().queued + s.taskCounts().processing, n)

  t0 = performance.now()
  let now = 0
  let done = 0
  for (let ds = s.takeDecisions(); ds.length > 0; ds = s.takeDecisions()) {
    now += 0.01
    for (const d of ds) {
      if (d.type === 'assign') {
        s.taskFinished(d.key, d.workerId, { durationMs: 0.01, nbytes: 8 }, now)
        done++
      } else if (d.type === 'memory') {
        s.release(d.key, now)
      }
    }
    if (done % 100_000 < 200) s.tick(now)
  }
  const drainMs = performance.now() - t0
  t.log(
    `drain (finish + release each): ${drainMs.toFixed(0)} ms (${((drainMs * 1000) / n).toFixed(2)} µs/task)`,
  )
  t.is(done, n)
  t.is(s.taskCounts().total, 0)
})
