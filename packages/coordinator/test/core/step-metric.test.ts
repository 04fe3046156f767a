// The scheduler-step histogram: every input the core handles (a worker's messages, a client's,
// a tick) is timed once, under its own label, so /metrics shows the tail of decision time.
import test from 'ava'

import { CoordinatorMetrics } from '../../src/http/metrics.js'
import { result, task, testCore } from './harness.js'

async function counts(metrics: CoordinatorMetrics): Promise<Record<string, number>> {
  const out: Record<string, number> = {}
  const { values } = await metrics.schedulerStep.get()
  for (const v of values)
    if (v.metricName === 'clusterpool_scheduler_step_seconds_count')
      out[String(v.labels.input)] = v.value
  return out
}

test('each input is timed once under its label', async (t) => {
  const metrics = new CoordinatorMetrics(() => ({ tasks: {}, workers: 0, procs: 0, clients: 0 }))
  const h = testCore({}, { workStealing: false }, metrics)
  const w = h.worker('a')
  const c = h.client()
  c.send({ kind: 'submit', tasks: [task(1), task(2)] })
  c.send({ kind: 'submit', tasks: [task(3)] })
  let batches = 0
  for (const m of w.link.takeKind('assign'))
    for (const a of m.tasks) {
      w.send(result(a.key, new Uint8Array([1])))
      batches++
    }
  h.core.tick()
  const seen = await counts(metrics)
  t.true(batches > 0)
  t.deepEqual(seen, { client: 2, worker: batches, tick: 1 })
  const { values } = await metrics.schedulerStep.get()
  const sum = values.find(
    (v) => v.metricName === 'clusterpool_scheduler_step_seconds_sum' && v.labels.input === 'client',
  )
  t.true(sum !== undefined && sum.value > 0)
})
