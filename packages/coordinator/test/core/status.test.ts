// Bounded status (issue 15, reproduction 5): /api/status lists the most active workers and
// functions, with totals, and cuts peer-chosen strings, whatever their number and length.
import test from 'ava'

import { STATUS_TEXT_CHARS, STATUS_TOP_N } from '../../src/core/status.js'
import { result, task, testCore } from './harness.js'

test('the status lists the top workers and functions, with totals, under 1 MB', (t) => {
  const h = testCore()
  const workers = Array.from({ length: 150 }, (_, i) => h.worker(`w${i}-${'n'.repeat(5000)}`))
  const c = h.client()
  const long = 'a'.repeat(40_000)
  const n = 300
  c.send({
    kind: 'submit',
    tasks: Array.from({ length: n }, (_, i) =>
      task(i + 1, { fn: { kind: 'module', url: `file:///${long}${i}.js`, exportName: 'f' } }),
    ),
  })
  for (const w of workers)
    for (const m of w.link.takeKind('assign'))
      for (const a of m.tasks) w.send(result(a.key, new Uint8Array([1])))
  const status = h.core.status()
  t.is(status.workers.length, STATUS_TOP_N)
  t.is(status.workersTotal, 150)
  t.is(status.functions.length, STATUS_TOP_N)
  t.is(status.functionsTotal, n)
  t.true(status.workers.every((w) => w.name.length <= STATUS_TEXT_CHARS))
  t.true(status.functions.every((f) => f.fnKey.length <= STATUS_TEXT_CHARS))
  const bytes = JSON.stringify(status).length
  t.true(bytes < 1_000_000, `${bytes} bytes`)
})

test('a small cluster is listed whole, in its usual order', (t) => {
  const h = testCore()
  h.worker('a')
  h.worker('b')
  const status = h.core.status()
  t.deepEqual(
    status.workers.map((w) => w.name),
    ['a', 'b'],
  )
  t.is(status.workersTotal, 2)
})
