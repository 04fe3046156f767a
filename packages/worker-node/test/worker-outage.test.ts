// A coordinator outage, through WorkerState alone: what the worker keeps, its inventory, and how
// it answers a restarted coordinator's assigns from what it kept instead of running them again.
import { createDecoder, createEncoder, type AssignTask } from '@clusterpool/protocol'
import test from 'ava'

import { ReportLog } from '../src/daemon/report-log.js'
import type { WorkerEvent, WorkerInstruction } from '../src/daemon/worker-events.js'
import { WorkerState } from '../src/daemon/worker-state.js'

const FN = { kind: 'module', url: 'file:///tasks.js', exportName: 'work' } as const
const ARGS = Uint8Array.of(0x90)

function task(key: string, extra: Partial<AssignTask> = {}): AssignTask {
  return { key, fn: FN, args: ARGS, attempt: 1, ...extra }
}

/** One of the events, without its stimulus id (the helper numbers them). */
type Stimulus = WorkerEvent extends infer E
  ? E extends WorkerEvent
    ? Omit<E, 'stimulusId'>
    : never
  : never

let stimulus = 0
function feed(w: WorkerState, event: Stimulus): WorkerInstruction[] {
  return w.handle({ ...event, stimulusId: ++stimulus })
}

function kinds(out: WorkerInstruction[]): string[] {
  return out.map((i) => i.kind)
}

/** A worker that ran `a` (finished before the outage), runs `b` and holds `h`, then lost its coordinator. */
function throughOutage(): WorkerState {
  const w = new WorkerState()
  feed(w, { kind: 'connected' })
  feed(w, { kind: 'assign', tasks: [task('a'), task('b'), task('k', { keep: true })] })
  feed(w, { kind: 'task-started', id: 1 })
  feed(w, { kind: 'task-started', id: 2 })
  feed(w, { kind: 'task-finished', id: 1, value: Uint8Array.of(1), durationMs: 2 })
  feed(w, { kind: 'store', items: [{ key: 'h', value: Uint8Array.of(9, 9) }] })
  t0(feed(w, { kind: 'coordinator-lost' }), ['reconnect'])
  return w
}

function t0(out: WorkerInstruction[], expected: string[]): void {
  if (JSON.stringify(kinds(out)) !== JSON.stringify(expected))
    throw new Error(`expected ${expected.join(',')}, got ${kinds(out).join(',')}`)
}

test('during an outage, finished tasks are kept as reports, and listed in the inventory', (t) => {
  const w = throughOutage()
  // `k` finishes meanwhile: its value is held, its report kept; nothing is sent.
  t.deepEqual(feed(w, { kind: 'task-finished', id: 3, value: Uint8Array.of(5), durationMs: 1 }), [])
  t.true(w.holds('k'))
  const inventory = w.inventory()
  t.deepEqual(new Set(inventory?.tasks), new Set(['b', 'a', 'k']))
  t.deepEqual(inventory?.held, [
    { key: 'h', size: 2 },
    { key: 'k', size: 1 },
  ])
})

test('after the reconnect, an assign of a kept key is answered from what is kept, never run again', (t) => {
  const w = throughOutage()
  feed(w, { kind: 'task-finished', id: 3, value: Uint8Array.of(5), durationMs: 1 })
  w.inventory()
  feed(w, { kind: 'connected' })
  // `a` finished before the outage (its report may never have arrived): sent again.
  t.deepEqual(feed(w, { kind: 'assign', tasks: [task('a')] }), [
    {
      kind: 'send-result',
      stimulusId: stimulus,
      item: { key: 'a', value: Uint8Array.of(1), size: 1, durationMs: 2 },
    },
  ])
  // `k` finished during it, held: reported with its size.
  t.like(feed(w, { kind: 'assign', tasks: [task('k', { keep: true })] }), [
    { kind: 'send-result', item: { key: 'k', size: 1 } },
  ])
  // `b` still runs: bound to that run; its report goes out when it ends.
  t.deepEqual(feed(w, { kind: 'assign', tasks: [task('b')] }), [])
  t.like(feed(w, { kind: 'task-finished', id: 2, value: Uint8Array.of(3), durationMs: 4 }), [
    { kind: 'send-result', item: { key: 'b', size: 1 } },
  ])
  // A key assigned a second time after that is a new run.
  t.deepEqual(kinds(feed(w, { kind: 'assign', tasks: [task('a')] })), ['run-task'])
})

test('an orphan nobody claims: its report stays unsent, and a cancel drops it silently', (t) => {
  const w = throughOutage()
  w.inventory()
  feed(w, { kind: 'connected' })
  // `b` ends before any coordinator asked for it: nothing is sent (no report is expected).
  t.deepEqual(feed(w, { kind: 'task-finished', id: 2, value: Uint8Array.of(3), durationMs: 4 }), [])
  t.deepEqual(kinds(feed(w, { kind: 'cancel', keys: ['k'] })), ['drop-task'], 'queued: taken back')
  feed(w, { kind: 'release', keys: ['h'] })
  t.false(w.holds('h'))
  // After the cancel, `b`'s kept report is gone: an assign runs it afresh.
  feed(w, { kind: 'cancel', keys: ['b'] })
  t.deepEqual(kinds(feed(w, { kind: 'assign', tasks: [task('b')] })), ['run-task'])
})

test('the report log is bounded in reports and in bytes; the oldest go first', (t) => {
  const log = new ReportLog({ maxReports: 3, maxBytes: 10 })
  for (const key of ['a', 'b', 'c', 'd'])
    log.result({ key, value: Uint8Array.of(1), size: 1, durationMs: 0 })
  t.deepEqual([...log.keys()], ['b', 'c', 'd'])
  log.result({ key: 'e', value: new Uint8Array(9), size: 9, durationMs: 0 })
  t.deepEqual([...log.keys()], ['d', 'e'])
  t.is(log.bytes, 10)
  t.like(log.take('e'), { kind: 'result', item: { key: 'e', size: 9 } })
  t.is(log.take('e'), undefined)
})

test("after the reconnect, running tasks' executors hear that their submits are not known any more", (t) => {
  const w = throughOutage()
  const out = feed(w, { kind: 'connected' })
  // `b` ran through the outage: its executor is told (a refuse frame), so its unfinished
  // children fail with ConnectionLostError instead of waiting for answers that never come.
  const told = out.filter((i) => i.kind === 'to-task')
  t.deepEqual(
    told.map((i) => (i as { id: number }).id),
    [2],
  )
  const frame = createDecoder().decode((told[0] as { payload: Uint8Array }).payload) as {
    kind: string
    code: string
  }[]
  t.like(frame[0], { kind: 'refuse', code: 'CP_ERR_CONNECTION_LOST' })
})

test('the report log evicts in the order reports were put, whatever was dropped or replaced since', (t) => {
  const log = new ReportLog({ maxReports: 3, maxBytes: 1000 })
  const put = (key: string): void =>
    log.result({ key, value: Uint8Array.of(1), size: 1, durationMs: 0 })
  for (const key of ['a', 'b', 'c']) put(key)
  log.drop('a')
  put('a') // put again: now the newest
  put('d') // evicts b, the oldest still kept
  t.deepEqual([...log.keys()].sort(), ['a', 'c', 'd'])
  put('e')
  t.deepEqual([...log.keys()].sort(), ['a', 'd', 'e'])
  // Many drops without evictions, then many puts: the bounds hold, the newest stay.
  for (let i = 0; i < 5000; i++) {
    put(`x${i}`)
    log.drop(`x${i}`)
  }
  for (let i = 0; i < 5000; i++) put(`y${i}`)
  t.deepEqual([...log.keys()].sort(), ['y4997', 'y4998', 'y4999'])
  t.is(log.size, 3)
  t.is(log.bytes, 3)
})

test('what an orphan’s executor sends waits until the restarted coordinator claims the task', (t) => {
  const w = throughOutage()
  w.inventory() // the hello of the reconnect lists `b`
  feed(w, { kind: 'connected' })
  // `b` (id 2) runs on as an orphan: its submit and its secede are not the coordinator's yet.
  const payload = Uint8Array.of(0x90)
  t.deepEqual(feed(w, { kind: 'task-nested', id: 2, payload }), [])
  t.deepEqual(feed(w, { kind: 'task-seceded', id: 2 }), [])
  // Claimed (assigned again): they go out, in order, with nothing run again.
  const out = feed(w, { kind: 'assign', tasks: [task('b')] })
  t.deepEqual(kinds(out), ['send-nested', 'send-wait'])
  t.like(out[0], { item: { key: 'b', payload } })
  t.like(out[1], { list: 'seceded', key: 'b' })
  // From now on they are sent at once.
  t.deepEqual(kinds(feed(w, { kind: 'task-rejoined', id: 2 })), ['send-wait'])
})

test('an orphan whose executor sends too much while unclaimed is answered here', (t) => {
  const w = throughOutage()
  feed(w, { kind: 'connected' })
  const empty = Uint8Array.of(0x90)
  for (let i = 0; i < 256; i++)
    t.deepEqual(feed(w, { kind: 'task-nested', id: 2, payload: empty }), [])
  const encoded = createEncoder().encode([
    { kind: 'submit', tasks: [{ id: 7, fn: FN, args: ARGS }] },
  ])
  const out = feed(w, { kind: 'task-nested', id: 2, payload: encoded })
  t.deepEqual(kinds(out), ['to-task'])
  const answer = createDecoder().decode((out[0] as { payload: Uint8Array }).payload) as {
    items: { id: number; error: { name: string; message: string } }[]
  }[]
  t.is(answer[0]?.items[0]?.id, 7)
  t.is(answer[0]?.items[0]?.error.name, 'ConnectionLostError')
  t.regex(answer[0]!.items[0]!.error.message, /not claimed this task again yet/)
})
