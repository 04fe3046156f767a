import test from 'ava'

import { Scheduler } from '../src/scheduler/index.js'

test('an error from a run aborted on purpose (final) is not retried', (t) => {
  const s = new Scheduler()
  s.addWorker({ id: 'w', procs: 1 }, 0)
  s.submit({ key: 'k', fnKey: 'f', clientId: 'c', retries: 3 }, 0)
  s.takeDecisions()
  s.taskErred('k', 'w', { durationMs: 5, final: true }, 10)
  const ds = s.takeDecisions()
  t.deepEqual(
    ds.map((d) => d.type),
    ['erred'],
  )
  t.is(s.task('k')?.state, 'erred')
})

test('the same error without final is retried', (t) => {
  const s = new Scheduler()
  s.addWorker({ id: 'w', procs: 1 }, 0)
  s.submit({ key: 'k', fnKey: 'f', clientId: 'c', retries: 3 }, 0)
  s.takeDecisions()
  s.taskErred('k', 'w', { durationMs: 5 }, 10)
  t.like(s.takeDecisions()[0], { type: 'retry', key: 'k', attempt: 2 })
})
