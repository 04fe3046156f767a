import test from 'ava'

import { InvalidOptionError } from '@clusterpool/protocol'

import { Scheduler, type AssignDecision, type Decision } from '../src/scheduler/index.js'

const assigns = (ds: readonly Decision[]): AssignDecision[] =>
  ds.filter((d): d is AssignDecision => d.type === 'assign')
const keysTo = (ds: readonly Decision[], workerId?: string): string[] =>
  assigns(ds)
    .filter((d) => workerId === undefined || d.workerId === workerId)
    .map((d) => d.key)

test('higher priority first, FIFO within a priority', (t) => {
  const s = new Scheduler({ saturationFactor: 1, prefetch: 0 })
  const order: [string, number][] = [
    ['a', 0],
    ['b', 0],
    ['c', 5],
    ['d', -1],
    ['e', 5],
    ['f', 0],
  ]
  for (const [key, priority] of order) s.submit({ key, fnKey: 'f', clientId: 'c', priority }, 0)
  s.addWorker({ id: 'w', procs: 1 }, 0)
  const ran: string[] = []
  for (let now = 1; ; now++) {
    const next = keysTo(s.takeDecisions())
    if (next.length === 0) break
    t.is(next.length, 1, 'a 1-process worker with no prefetch holds one task')
    ran.push(...next)
    s.taskFinished(next[0]!, 'w', { durationMs: 1 }, now)
  }
  t.deepEqual(ran, ['c', 'e', 'a', 'b', 'f', 'd'])
})

test('a requeued task keeps its place: ahead of later tasks of its priority', (t) => {
  const s = new Scheduler({ saturationFactor: 1, prefetch: 0 })
  s.addWorker({ id: 'w1', procs: 1 }, 0)
  for (const key of ['a', 'b', 'c']) s.submit({ key, fnKey: 'f', clientId: 'c' }, 0)
  t.deepEqual(keysTo(s.takeDecisions()), ['a'])
  s.removeWorker('w1', 1)
  s.addWorker({ id: 'w2', procs: 1 }, 2)
  t.deepEqual(keysTo(s.takeDecisions()), ['a'])
  s.taskFinished('a', 'w2', { durationMs: 1 }, 3)
  t.deepEqual(keysTo(s.takeDecisions()), ['b'])
})

test('saturation: while prefetching, a worker holds ceil(procs × 1.1) + prefetch tasks; the rest wait on the coordinator', (t) => {
  const s = new Scheduler({ roundTripMs: Infinity }) // always prefetch
  s.addWorker({ id: 'w', procs: 4 }, 0)
  for (let i = 0; i < 50; i++) s.submit({ key: `t${i}`, fnKey: 'f', clientId: 'c' }, 0)
  t.is(assigns(s.takeDecisions()).length, Math.ceil(4 * 1.1) + 1)
  t.is(s.taskCounts().queued, 50 - 6)
  const w = s.worker('w')!
  t.is(w.processing, 4)
  t.is(w.queued, 2)
  s.taskFinished('t0', 'w', { durationMs: 100 }, 1)
  t.deepEqual(
    keysTo(s.takeDecisions()),
    ['t6'],
    'a finished task frees one slot for the next queued task',
  )
})

test('tiny tasks (observed under tinyTaskMs) get worker queues that hide the round trip; others do not', (t) => {
  const s = new Scheduler()
  s.addWorker({ id: 'w', procs: 2 }, 0)
  for (let i = 0; i < 1000; i++) s.submit({ key: `t${i}`, fnKey: 'noop', clientId: 'c' }, 0)
  t.is(assigns(s.takeDecisions()).length, 2, 'unknown function: one task per process')
  s.taskFinished('t0', 'w', { durationMs: 0.02 }, 1)
  // No round trip measured yet (a worker's first results pay for its start): the default 1 ms,
  // so each process needs 1 + ceil(1 / 0.02) = 51 tasks to never run dry.
  t.is(assigns(s.takeDecisions()).length, 2 * 51 - 1, 'tiny: procs × (1 + round trip / estimate)')

  const off = new Scheduler({ tinyTaskMs: 0 })
  off.addWorker({ id: 'w', procs: 2 }, 0)
  for (let i = 0; i < 100; i++) off.submit({ key: `t${i}`, fnKey: 'noop', clientId: 'c' }, 0)
  off.takeDecisions()
  off.taskFinished('t0', 'w', { durationMs: 0.02 }, 1)
  t.is(
    assigns(off.takeDecisions()).length,
    Math.ceil(2 * 1.1) + 1 - 1,
    'tinyTaskMs 0 turns deep queues off: the prefetch cap',
  )
})

test('the least occupied worker gets the next root task', (t) => {
  const s = new Scheduler()
  s.addWorker({ id: 'a', procs: 2 }, 0)
  s.addWorker({ id: 'b', procs: 2 }, 0)
  s.submit({ key: 'x', fnKey: 'f', clientId: 'c' }, 0)
  s.submit({ key: 'y', fnKey: 'f', clientId: 'c' }, 0)
  const ds = assigns(s.takeDecisions())
  t.deepEqual(
    new Set(ds.map((d) => d.workerId)),
    new Set(['a', 'b']),
    'spread, not stacked on one worker',
  )
})

test('locality: a dependent goes to the worker holding its big input, and is told where each input is', (t) => {
  const s = new Scheduler()
  s.addWorker({ id: 'a', procs: 2 }, 0)
  s.addWorker({ id: 'b', procs: 2 }, 0)
  s.submit({ key: 'small', fnKey: 'load', clientId: 'c' }, 0)
  s.submit({ key: 'big', fnKey: 'load', clientId: 'c' }, 0)
  const first = assigns(s.takeDecisions())
  const where = new Map(first.map((d) => [d.key, d.workerId]))
  s.taskFinished('small', where.get('small')!, { durationMs: 10, nbytes: 10e6 }, 10)
  s.taskFinished('big', where.get('big')!, { durationMs: 10, nbytes: 200e6 }, 10)
  s.takeDecisions()
  s.submit({ key: 'join', fnKey: 'combine', clientId: 'c', deps: ['small', 'big'] }, 11)
  const [d] = assigns(s.takeDecisions())
  t.is(d?.workerId, where.get('big'))
  t.deepEqual(
    [...(d?.deps ?? [])].sort((x, y) => x.key.localeCompare(y.key)),
    [
      { key: 'big', workerId: where.get('big')!, nbytes: 200e6 },
      { key: 'small', workerId: where.get('small')!, nbytes: 10e6 },
    ],
  )
})

test('locality: a data-heavy dependent waits for its data worker even past the cap; a light one goes to a free worker', (t) => {
  const s = new Scheduler({ roundTripMs: Infinity }) // a holds 4 tasks on 2 processes
  s.addWorker({ id: 'a', procs: 2 }, 0)
  s.submit({ key: 'heavy-in', fnKey: 'load', clientId: 'c' }, 0)
  s.submit({ key: 'light-in', fnKey: 'load', clientId: 'c' }, 0)
  s.takeDecisions()
  s.taskFinished('heavy-in', 'a', { durationMs: 10, nbytes: 1e9 }, 1) // 10 s to move
  s.taskFinished('light-in', 'a', { durationMs: 10, nbytes: 1e6 }, 1) // 10 ms to move
  for (let i = 0; i < 4; i++) s.submit({ key: `busy${i}`, fnKey: 'long', clientId: 'c' }, 2)
  t.is(assigns(s.takeDecisions()).length, 4, 'a is at its cap')
  s.addWorker({ id: 'b', procs: 2 }, 3)
  s.submit({ key: 'h', fnKey: 'use', clientId: 'c', deps: ['heavy-in'] }, 4)
  s.submit({ key: 'l', fnKey: 'use', clientId: 'c', deps: ['light-in'] }, 4)
  const ds = assigns(s.takeDecisions())
  t.is(ds.find((d) => d.key === 'h')?.workerId, 'a')
  t.is(ds.find((d) => d.key === 'l')?.workerId, 'b')
})

test('workers restriction, by name or host, and the allowOtherWorkers fallback', (t) => {
  const s = new Scheduler()
  s.addWorker({ id: 'a', name: 'alpha', host: 'h1', procs: 2 }, 0)
  s.submit({ key: 'only-b', fnKey: 'f', clientId: 'c', workers: ['beta'] }, 0)
  s.submit(
    { key: 'b-or-any', fnKey: 'f', clientId: 'c', workers: ['beta'], allowOtherWorkers: true },
    0,
  )
  s.submit({ key: 'host-h1', fnKey: 'f', clientId: 'c', workers: ['h1'] }, 0)
  t.deepEqual(keysTo(s.takeDecisions()).sort(), ['b-or-any', 'host-h1'])
  t.is(s.taskCounts().noWorker, 1)
  s.addWorker({ id: 'b', name: 'beta', procs: 2 }, 1)
  s.submit(
    { key: 'b-or-any-2', fnKey: 'f', clientId: 'c', workers: ['beta'], allowOtherWorkers: true },
    1,
  )
  const ds = assigns(s.takeDecisions())
  t.is(ds.find((d) => d.key === 'only-b')?.workerId, 'b')
  t.is(ds.find((d) => d.key === 'b-or-any-2')?.workerId, 'b', 'with beta connected, only beta')
  t.is(s.taskCounts().noWorker, 0)
})

test('a task no worker can run waits by default, and fails with no-worker after noWorkerTimeoutMs', (t) => {
  const waits = new Scheduler()
  waits.addWorker({ id: 'a', procs: 1 }, 0)
  waits.submit({ key: 'gpu', fnKey: 'f', clientId: 'c', resources: { GPU: 1 } }, 0)
  waits.tick(1e9)
  t.deepEqual(waits.takeDecisions(), [])
  t.is(waits.taskCounts().noWorker, 1)
  waits.addWorker({ id: 'g', procs: 1, resources: { GPU: 1 } }, 1e9 + 1)
  t.deepEqual(keysTo(waits.takeDecisions(), 'g'), ['gpu'])

  const now = new Scheduler({ noWorkerTimeoutMs: 0 })
  now.addWorker({ id: 'a', procs: 1 }, 0)
  now.submit({ key: 'gpu', fnKey: 'f', clientId: 'c', resources: { GPU: 1 } }, 0)
  t.like(now.takeDecisions()[0], { type: 'failed', key: 'gpu', reason: 'no-worker' })

  const later = new Scheduler({ noWorkerTimeoutMs: 1000 })
  later.submit({ key: 'x', fnKey: 'f', clientId: 'c' }, 0)
  later.tick(500)
  t.deepEqual(later.takeDecisions(), [])
  later.tick(1600)
  t.like(later.takeDecisions()[0], { type: 'failed', key: 'x', reason: 'no-worker' })
})

test('options are validated once, naming the option', (t) => {
  t.throws(() => new Scheduler({ saturationFactor: 0 }), {
    instanceOf: InvalidOptionError,
    message: /options\.saturationFactor/,
  })
  t.throws(() => new Scheduler({ prefetch: 1.5 }), {
    message: /options\.prefetch must be an integer/,
  })
  t.throws(() => new Scheduler({ bogus: 1 } as never), {
    message: /options\.bogus is not a scheduler option/,
  })
  const s = new Scheduler()
  t.throws(() => s.addWorker({ id: 'w', procs: 0 }, 0), {
    message: /procs must be a positive integer/,
  })
  s.submit({ key: 'k', fnKey: 'f', clientId: 'c' }, 0)
  t.throws(() => s.submit({ key: 'k', fnKey: 'f', clientId: 'c' }, 0), {
    message: /already submitted/,
  })
})

test('batch: inputs are placed together at its end, highest priority first', (t) => {
  // One at a time, a worker with a free slot takes the first task submitted; in a batch (a
  // frame's worth of submits), it takes the one that matters most.
  const s = new Scheduler({ saturationFactor: 1, prefetch: 0 })
  s.addWorker({ id: 'w', procs: 1 }, 0)
  s.takeDecisions()
  const result = s.batch(() => {
    s.submit({ key: 'low', fnKey: 'f', clientId: 'c', priority: 0 }, 1)
    s.submit({ key: 'high', fnKey: 'f', clientId: 'c', priority: 9 }, 1)
    t.deepEqual(s.takeDecisions(), [], 'nothing is decided before the batch ends')
    return 'body value'
  })
  t.is(result, 'body value')
  t.deepEqual(keysTo(s.takeDecisions()), ['high'])
  // Nested batches flush once, at the outer end; a throwing body still flushes.
  t.throws(() =>
    s.batch(() => {
      s.batch(() => s.taskFinished('high', 'w', { durationMs: 1 }, 2))
      t.deepEqual(keysTo(s.takeDecisions()), [])
      throw new Error('body failed')
    }),
  )
  t.deepEqual(keysTo(s.takeDecisions()), ['low'])
})
