// The worker daemon's pure state machine, driven by event scripts: each test feeds events and
// checks the exact instructions that come back, in order.
import test from 'ava'

import {
  InvalidStateError,
  createDecoder,
  sourceHash,
  createEncoder,
  depRef,
  encodeValue,
  type AssignTask,
  type SerializedError,
} from '@clusterpool/protocol'

import {
  DAEMON_TRANSITIONS,
  DaemonState,
  WORKER_TASK_TRANSITIONS,
  WorkerTaskState,
} from '../src/daemon/states.js'
import type { WorkerEvent, WorkerInstruction } from '../src/daemon/worker-events.js'
import { DEFAULT_HOLD_OVER_BYTES, WorkerState } from '../src/daemon/worker-state.js'

const FN = { kind: 'module', url: 'file:///tasks.js', exportName: 'work' } as const
const ARGS = Uint8Array.of(0x90) // msgpack []

function task(key: string, extra: Partial<AssignTask> = {}): AssignTask {
  return { key, fn: FN, args: ARGS, attempt: 1, ...extra }
}

/** A state that got its welcome (stimulus 1). */
function connected(holdResultsOverBytes?: number): WorkerState {
  const w = new WorkerState()
  t0(w.handle({ kind: 'connected', stimulusId: 1, holdResultsOverBytes }))
  return w
}

function t0(out: WorkerInstruction[]): void {
  if (out.length > 0) throw new Error(`expected no instructions, got ${JSON.stringify(out)}`)
}

/** Feeds events in order; returns every instruction. */
function run(w: WorkerState, ...events: WorkerEvent[]): WorkerInstruction[] {
  const out: WorkerInstruction[] = []
  for (const e of events) w.handle(e, out)
  return out
}

const assign = (stimulusId: number, ...tasks: AssignTask[]): WorkerEvent => ({
  kind: 'assign',
  stimulusId,
  tasks,
})
const started = (stimulusId: number, id: number): WorkerEvent => ({
  kind: 'task-started',
  stimulusId,
  id,
})
const finished = (stimulusId: number, id: number, value: Uint8Array): WorkerEvent => ({
  kind: 'task-finished',
  stimulusId,
  id,
  value,
  durationMs: 5,
})
const keys = (
  kind: 'cancel' | 'steal' | 'fetch' | 'release',
  stimulusId: number,
  ...k: string[]
): WorkerEvent => ({ kind, stimulusId, keys: k })

const runTask = (stimulusId: number, id: number, extra: object = {}): WorkerInstruction => ({
  kind: 'run-task',
  stimulusId,
  id,
  fn: FN,
  args: ARGS,
  attempt: 1,
  ...extra,
})

test('assign: each task becomes one run-task, queued until the pool starts it', (t) => {
  const w = connected()
  const out = w.handle(
    assign(2, task('a'), task('b', { opts: { timeoutMs: 500 }, chunk: true, attempt: 3 })),
  )
  t.deepEqual(out, [runTask(2, 1), runTask(2, 2, { attempt: 3, timeoutMs: 500, chunk: true })])
  t.is(w.taskState('a'), 'queued')
  t.is(w.taskCount, 2)
  t0(w.handle(started(3, 1)))
  t.is(w.taskState('a'), 'running')
  t.is(w.taskState('b'), 'queued')
})

test('assign is ignored unless connected and serving', (t) => {
  const w = new WorkerState()
  t.deepEqual(w.handle(assign(1, task('a'))), [])
  const d = connected()
  run(d, { kind: 'drain', stimulusId: 2 })
  t.deepEqual(d.handle(assign(3, task('b'))), [])
  t.is(d.taskCount, 0)
})

test('assign: shipped source is cached per connection; an unknown hash is an error', (t) => {
  const w = connected()
  const h1 = sourceHash('(x) => x')
  const src = { kind: 'source', hash: h1, source: '(x) => x', name: 'f' } as const
  const byHash = { kind: 'source', hash: h1, name: 'f' } as const
  const out = run(w, assign(2, task('a', { fn: src })), assign(3, task('b', { fn: byHash })))
  const ref = { kind: 'source', hash: h1, source: '(x) => x', name: 'f' }
  t.deepEqual(out, [runTask(2, 1, { fn: ref }), runTask(3, 2, { fn: ref })])
  // A new connection: the coordinator sends sources again, so the cache starts empty.
  run(w, { kind: 'coordinator-lost', stimulusId: 4 }, { kind: 'connected', stimulusId: 5 })
  const [refused, ...rest] = w.handle(assign(6, task('c', { fn: byHash })))
  t.deepEqual(rest, [])
  t.like(refused, { kind: 'send-error', stimulusId: 6, item: { key: 'c', durationMs: 0 } })
  t.like((refused as { item: { error: SerializedError } }).item.error, {
    name: 'InvalidOptionError',
    message: `task c: function ${h1} was never sent to this worker`,
  })
  t.is(w.taskState('c'), undefined)
})

test('assign: a source that does not hash to its hash is refused before it compiles', (t) => {
  const w = connected()
  const honest = '(x) => x * 2'
  const hash = sourceHash(honest)
  const forged = { kind: 'source', hash, source: '(x) => -777', name: 'f' } as const
  const [refused, ...rest] = w.handle(assign(2, task('a', { fn: forged })))
  t.deepEqual(rest, [], 'nothing runs')
  t.like(refused, { kind: 'send-error', stimulusId: 2, item: { key: 'a', durationMs: 0 } })
  t.like((refused as { item: { error: SerializedError } }).item.error, { name: 'InvalidTaskError' })
  // The honest source still gets in afterwards, and its hash names it from then on.
  const fn = { kind: 'source', hash, source: honest, name: 'f' } as const
  const byHash = { kind: 'source', hash, name: 'f' } as const
  const out = run(w, assign(3, task('b', { fn })), assign(4, task('c', { fn: byHash })))
  t.deepEqual(
    out.map((i) => i.kind),
    ['run-task', 'run-task'],
  )
})

test('assign: dependencies are put in the arguments; a relayed one marked keep is held', (t) => {
  const encoder = createEncoder()
  const decoder = createDecoder()
  const w = connected()
  run(w, { kind: 'store', stimulusId: 2, items: [{ key: 'x', value: encoder.encode(40) }] })
  const args = encodeValue(encoder, [depRef(1), depRef(2)], 'args')
  const deps = [
    { id: 1, key: 'x' },
    { id: 2, key: 'y', value: encoder.encode(2), keep: true },
  ]
  const [i] = w.handle(assign(3, task('sum', { args, deps })))
  t.is(i?.kind, 'run-task')
  t.deepEqual(decoder.decode((i as { args: Uint8Array }).args), [40, 2])
  t.true(w.holds('y'))
  // A dependency neither sent nor held fails the task before the pool sees it.
  const missing = w.handle(assign(4, task('z', { args, deps: [{ id: 1, key: 'nowhere' }] })))
  t.like(missing, [{ kind: 'send-error', stimulusId: 4, item: { key: 'z', durationMs: 0 } }])
})

test('steal: a task not started is dropped and given; a running or unknown one is kept', (t) => {
  const w = connected()
  run(w, assign(2, task('a'), task('b')), started(3, 1))
  t.deepEqual(w.handle(keys('steal', 4, 'a', 'b', 'gone')), [
    { kind: 'drop-task', stimulusId: 4, id: 2 },
    {
      kind: 'send',
      stimulusId: 4,
      message: { kind: 'stealReply', given: ['b'], kept: ['a', 'gone'] },
    },
  ])
  t.is(w.taskState('b'), undefined)
  t.is(w.taskState('a'), 'running')
})

test('cancel: a queued task is dropped and reported aborted; a running one is aborted', (t) => {
  const w = connected()
  run(w, assign(2, task('q'), task('r')), started(3, 2))
  const out = w.handle(keys('cancel', 4, 'q', 'r', 'unknown'))
  t.is(out.length, 3)
  t.deepEqual(out[0], { kind: 'drop-task', stimulusId: 4, id: 1 })
  t.like(out[1], { kind: 'send-error', stimulusId: 4, item: { key: 'q', durationMs: 0 } })
  t.like((out[1] as { item: { error: SerializedError } }).item.error, {
    name: 'AbortedError',
    message: 'the task was cancelled before it started',
  })
  t.deepEqual(out[2], { kind: 'abort-task', stimulusId: 4, id: 2 })
  t.is(w.taskState('r'), 'cancelling')
  // Its abort fired once; a second cancel asks for nothing, and it reports however it ends.
  t.deepEqual(w.handle(keys('cancel', 5, 'r')), [])
  t.deepEqual(w.handle(keys('steal', 6, 'r')), [
    { kind: 'send', stimulusId: 6, message: { kind: 'stealReply', given: [], kept: ['r'] } },
  ])
  const error = { name: 'AbortedError', message: 'aborted' }
  t.deepEqual(w.handle({ kind: 'task-erred', stimulusId: 7, id: 2, error, durationMs: 3 }), [
    { kind: 'send-error', stimulusId: 7, item: { key: 'r', error, durationMs: 3 } },
  ])
  t.is(w.taskCount, 0)
})

test('task ended: a small result travels; a large or kept one is held, its size sent', (t) => {
  const w = connected(4)
  run(w, assign(2, task('small'), task('big'), task('kept', { keep: true })))
  run(w, started(3, 1), started(4, 2), started(5, 3))
  const small = Uint8Array.of(1, 2, 3, 4)
  const big = Uint8Array.of(1, 2, 3, 4, 5)
  const kept = Uint8Array.of(9)
  t.deepEqual(run(w, finished(6, 1, small), finished(7, 2, big), finished(8, 3, kept)), [
    {
      kind: 'send-result',
      stimulusId: 6,
      item: { key: 'small', value: small, size: 4, durationMs: 5 },
    },
    { kind: 'send-result', stimulusId: 7, item: { key: 'big', size: 5, durationMs: 5 } },
    { kind: 'send-result', stimulusId: 8, item: { key: 'kept', size: 1, durationMs: 5 } },
  ])
  t.false(w.holds('small'))
  t.is(w.heldBytes, 6)
  t.is(w.taskCount, 0)
  // A report for a task nobody has (forgotten, or never ours) is ignored.
  t.deepEqual(w.handle(finished(9, 1, small)), [])
})

test('held data: fetch sends what is held and names what is missing; release drops it', (t) => {
  const w = connected()
  // A value that is a view into a large decoded frame is copied out of it when held.
  const frame = new Uint8Array(64 * 1024)
  const value = frame.subarray(100, 103)
  value.fill(7)
  run(w, { kind: 'store', stimulusId: 2, items: [{ key: 's', value }] })
  frame.fill(0)
  t.deepEqual(w.handle(keys('fetch', 3, 's', 'nope')), [
    {
      kind: 'send',
      stimulusId: 3,
      message: {
        kind: 'data',
        items: [{ key: 's', value: Buffer.of(7, 7, 7) }],
        missing: ['nope'],
      },
    },
  ])
  t.is(w.heldBytes, 3)
  t0(w.handle(keys('release', 4, 's', 'nope')))
  t.is(w.heldBytes, 0)
  t.deepEqual(w.handle(keys('fetch', 5, 's')), [
    { kind: 'send', stimulusId: 5, message: { kind: 'data', items: [], missing: ['s'] } },
  ])
})

test('the default hold threshold applies when the welcome leaves it out', (t) => {
  const w = connected()
  run(w, assign(2, task('a')), started(3, 1))
  const out = w.handle(finished(4, 1, new Uint8Array(DEFAULT_HOLD_OVER_BYTES + 1)))
  t.like(out, [{ kind: 'send-result', item: { key: 'a', size: DEFAULT_HOLD_OVER_BYTES + 1 } }])
  t.false('value' in (out[0] as { item: object }).item)
})

test('coordinator lost: tasks run on, data stays, and the daemon reconnects', (t) => {
  const w = connected()
  run(w, assign(2, task('q'), task('r'), task('c')), started(3, 2), started(4, 3))
  run(w, keys('cancel', 5, 'c'), {
    kind: 'store',
    stimulusId: 6,
    items: [{ key: 'd', value: ARGS }],
  })
  t.deepEqual(w.handle({ kind: 'coordinator-lost', stimulusId: 7 }), [
    { kind: 'reconnect', stimulusId: 7 },
  ])
  t.is(w.state, 'reconnecting')
  t.is(w.taskCount, 3)
  t.is(w.heldBytes, ARGS.byteLength)
  // The report of a task that ends meanwhile is kept, not sent (there is nowhere to send it).
  const error = { name: 'AbortedError', message: 'aborted' }
  t.deepEqual(w.handle({ kind: 'task-erred', stimulusId: 8, id: 3, error, durationMs: 1 }), [])
  // Losing a link that was not serving changes nothing; after the next welcome, pool ids go on.
  t.deepEqual(w.handle({ kind: 'coordinator-lost', stimulusId: 9 }), [])
  t.deepEqual(w.inventory(), {
    tasks: ['q', 'r', 'c'],
    held: [{ key: 'd', size: ARGS.byteLength }],
  })
  run(w, { kind: 'connected', stimulusId: 10 })
  t.deepEqual(w.handle(assign(11, task('n'))), [runTask(11, 4)])
})

test('drain: queued tasks handed back in one leaving message, running ones finish', (t) => {
  const w = connected()
  run(w, assign(2, task('a'), task('b'), task('c')), started(3, 1))
  t.deepEqual(w.handle({ kind: 'drain', stimulusId: 4 }), [
    { kind: 'drop-task', stimulusId: 4, id: 2 },
    { kind: 'drop-task', stimulusId: 4, id: 3 },
    { kind: 'send', stimulusId: 4, message: { kind: 'leaving', returned: ['b', 'c'] } },
    { kind: 'flush', stimulusId: 4 },
  ])
  t.is(w.state, 'draining')
  t.is(w.taskCount, 1)
  t.deepEqual(w.handle({ kind: 'drain', stimulusId: 5 }), [])
  t.like(w.handle(finished(6, 1, ARGS)), [{ kind: 'send-result', item: { key: 'a' } }])
  t.deepEqual(w.handle({ kind: 'drained', stimulusId: 7 }), [
    { kind: 'stop', stimulusId: 7, code: 0 },
  ])
  t.is(w.state, 'stopped')
  t.deepEqual(w.handle({ kind: 'drained', stimulusId: 8 }), [])
})

test('drain while not connected tells nobody', (t) => {
  const w = new WorkerState()
  t.deepEqual(w.handle({ kind: 'drain', stimulusId: 1 }), [])
  t.is(w.state, 'draining')
})

test('shutdown stops with 0, refusal with 1; a stopped daemon stays stopped', (t) => {
  const w = connected()
  t.deepEqual(w.handle({ kind: 'shutdown', stimulusId: 2 }), [
    { kind: 'stop', stimulusId: 2, code: 0 },
  ])
  t.deepEqual(w.handle({ kind: 'shutdown', stimulusId: 3 }), [])
  t.is(w.state, 'stopped')
  const r = new WorkerState()
  t.deepEqual(r.handle({ kind: 'refused', stimulusId: 1 }), [
    { kind: 'stop', stimulusId: 1, code: 1 },
  ])
  t.is(r.state, 'failed')
  t.deepEqual(r.handle({ kind: 'drained', stimulusId: 2 }), [])
})

test('events that break a contract throw InvalidStateError naming the stimulus', (t) => {
  const scripts: [string, WorkerEvent[], string][] = [
    [
      'a second start',
      [assign(2, task('a')), started(3, 1), started(4, 1)],
      'task a cannot start from running (stimulus 4)',
    ],
    [
      'a start after cancel',
      [assign(2, task('a')), started(3, 1), keys('cancel', 4, 'a'), started(5, 1)],
      'task a cannot start from cancelling (stimulus 5)',
    ],
    [
      'a second welcome',
      [{ kind: 'connected', stimulusId: 2 }],
      'cannot connect from running (stimulus 2)',
    ],
    [
      'a refusal while serving',
      [{ kind: 'refused', stimulusId: 2 }],
      'cannot refuse from running (stimulus 2)',
    ],
    [
      'a welcome after a stop',
      [
        { kind: 'shutdown', stimulusId: 2 },
        { kind: 'connected', stimulusId: 3 },
      ],
      'cannot connect from stopped (stimulus 3)',
    ],
  ]
  for (const [name, events, message] of scripts) {
    const w = connected()
    t.throws(
      () => run(w, ...events),
      { instanceOf: InvalidStateError, message: `worker: ${message}` },
      name,
    )
  }
  t.throws(() => new WorkerState().handle({ kind: 'shutdown', stimulusId: 1 }), {
    instanceOf: InvalidStateError,
    message: 'worker: cannot stop from connecting (stimulus 1)',
  })
})

test('transition tables: exactly these moves are legal', (t) => {
  // Written out rather than derived, so that an edit to either table has to be made twice.
  const taskMoves: Record<keyof typeof WORKER_TASK_TRANSITIONS, string[]> = {
    start: ['queued'],
    abort: ['running'],
    finish: ['queued', 'running', 'cancelling'],
    drop: ['queued'],
    lose: ['queued', 'running', 'cancelling'],
  }
  const taskTargets = {
    start: 'running',
    abort: 'cancelling',
    finish: 'done',
    drop: 'released',
    lose: 'released',
  }
  for (const [name, rule] of Object.entries(WORKER_TASK_TRANSITIONS)) {
    const n = name as keyof typeof WORKER_TASK_TRANSITIONS
    for (const state of Object.values(WorkerTaskState)) {
      t.is(
        (rule.from as readonly string[]).includes(state),
        taskMoves[n].includes(state),
        `${name} from ${state}`,
      )
    }
    t.is<string, string>(rule.to, taskTargets[n])
  }
  // Terminal states lead nowhere.
  for (const rule of Object.values(WORKER_TASK_TRANSITIONS)) {
    t.false((rule.from as readonly string[]).includes('done'))
    t.false((rule.from as readonly string[]).includes('released'))
  }
  const daemonMoves: Record<keyof typeof DAEMON_TRANSITIONS, [string[], string]> = {
    connect: [['connecting', 'reconnecting'], 'running'],
    lose: [['running'], 'reconnecting'],
    drain: [['connecting', 'running', 'reconnecting'], 'draining'],
    stop: [['running', 'draining'], 'stopped'],
    refuse: [['connecting', 'reconnecting', 'draining'], 'failed'],
  }
  for (const [name, rule] of Object.entries(DAEMON_TRANSITIONS)) {
    const [from, to] = daemonMoves[name as keyof typeof DAEMON_TRANSITIONS]
    for (const state of Object.values(DaemonState)) {
      t.is(
        (rule.from as readonly string[]).includes(state),
        from.includes(state),
        `${name} from ${state}`,
      )
    }
    t.is<string, string>(rule.to, to)
  }
})

test('nested: a task executor’s frames, waits and answers are routed by key, while draining too', (t) => {
  const w = connected()
  run(w, assign(2, task('p'), task('q')), started(3, 1))
  const frame = Uint8Array.of(0x91, 0x80)
  t.deepEqual(w.handle({ kind: 'task-nested', stimulusId: 4, id: 1, payload: frame }), [
    { kind: 'send-nested', stimulusId: 4, item: { key: 'p', payload: frame } },
  ])
  t.deepEqual(w.handle({ kind: 'task-seceded', stimulusId: 5, id: 1 }), [
    { kind: 'send-wait', stimulusId: 5, list: 'seceded', key: 'p' },
  ])
  t.deepEqual(
    w.handle({
      kind: 'nested',
      stimulusId: 6,
      items: [
        { key: 'p', payload: frame },
        { key: 'x', payload: frame },
      ],
    }),
    [{ kind: 'to-task', stimulusId: 6, id: 1, payload: frame }],
    'a frame for a task not here is dropped',
  )
  run(w, { kind: 'drain', stimulusId: 7 })
  t.is(w.state, 'draining')
  // The running task finishes during the drain, and may still wait for its children.
  t.deepEqual(w.handle({ kind: 'task-nested', stimulusId: 8, id: 1, payload: frame }), [
    { kind: 'send-nested', stimulusId: 8, item: { key: 'p', payload: frame } },
  ])
  t.deepEqual(w.handle({ kind: 'task-rejoined', stimulusId: 9, id: 1 }), [
    { kind: 'send-wait', stimulusId: 9, list: 'rejoined', key: 'p' },
  ])
})

test('nested: a frame over the coordinator’s maxPayload is answered here, not forwarded', (t) => {
  const w = new WorkerState()
  t0(w.handle({ kind: 'connected', stimulusId: 1, maxPayload: 8192 }))
  run(w, assign(2, task('p')), started(3, 1))
  const encoder = createEncoder()
  const big = encoder.encode([
    { kind: 'submit', tasks: [{ id: 7, fn: FN, args: new Uint8Array(10_000) }] },
  ])
  const out = w.handle({ kind: 'task-nested', stimulusId: 4, id: 1, payload: big })
  t.is(out.length, 1)
  t.is(out[0]?.kind, 'to-task')
  const answer = createDecoder().decode((out[0] as { payload: Uint8Array }).payload) as {
    kind: string
    items: { id: number; error: SerializedError }[]
  }[]
  t.is(answer[0]?.kind, 'errors')
  t.is(answer[0]?.items[0]?.id, 7)
  t.is(answer[0]?.items[0]?.error.name, 'PayloadTooLargeError')
})

test('a result over the coordinator’s maxPayload fails its own task; the next one is sent', (t) => {
  const w = new WorkerState()
  t0(w.handle({ kind: 'connected', stimulusId: 1, maxPayload: 64 * 1024 }))
  run(w, assign(2, task('big'), task('small')), started(3, 1), started(4, 2))
  const out = w.handle(finished(5, 1, new Uint8Array(64 * 1024)))
  t.is(out.length, 1)
  const sent = out[0] as { kind: string; item: { key: string; error: SerializedError } }
  t.is(sent.kind, 'send-error')
  t.is(sent.item.key, 'big')
  t.is(sent.item.error.name, 'PayloadTooLargeError')
  t.regex(sent.item.error.message, /65536 bytes encoded.*maxPayload of 65536/)
  t.false(w.holds('big'), 'nothing is held for a result that can never be fetched')
  t.like(w.handle(finished(6, 2, new Uint8Array(1000))), [
    { kind: 'send-result', item: { key: 'small', size: 1000 } },
  ])
})
