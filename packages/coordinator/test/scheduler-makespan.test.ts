import test, { type ExecutionContext } from 'ava'

import {
  lowerBoundMs,
  simulate,
  type SimOptions,
  type SimTask,
  type SimWorker,
} from '../src/scheduler/sim.js'

/** Runs the simulation and checks makespan / lower bound ≤ 1.10. */
function within10(
  t: ExecutionContext,
  workers: SimWorker[],
  tasks: SimTask[],
  options: SimOptions = {},
) {
  const r = simulate(workers, tasks, options)
  const lb = lowerBoundMs(workers, tasks)
  const ratio = r.makespanMs / lb
  t.log(
    `makespan ${r.makespanMs.toFixed(1)} ms, bound ${lb.toFixed(1)} ms, ratio ${ratio.toFixed(3)}, steals ${r.steals.ok}/${r.steals.requested}`,
  )
  t.true(r.complete)
  t.is(r.finished, tasks.length)
  t.true(ratio <= 1.1, `ratio ${ratio}`)
  return r
}

const many = (n: number, durationMs: number, prefix = 't', fnKey = 'f'): SimTask[] =>
  Array.from({ length: n }, (_, i) => ({ key: `${prefix}${i}`, durationMs, fnKey }))
const two: SimWorker[] = [
  { id: 'a', procs: 2 },
  { id: 'b', procs: 2 },
]
const HETEROGENEOUS = [1, 4, 3, 5, 6, 3, 7, 5, 8, 10]

test('uniform tiny tasks (0.1 ms)', (t) => {
  within10(t, two, many(10_000, 0.1))
})

test('heterogeneous durations [1,4,3,5,6,3,7,5,8,10] × k', (t) => {
  for (const k of [5, 20]) {
    const tasks = Array.from({ length: 10 * k }, (_, i) => ({
      key: `h${i}`,
      durationMs: HETEROGENEOUS[i % 10]! * 100,
    }))
    within10(t, two, tasks)
  }
})

test("the seed's power_calc durations ×4 in submission order (P4 'heterogeneous'): greedy list scheduling", (t) => {
  const tasks = Array.from({ length: 40 }, (_, i) => ({
    key: `p${i}`,
    durationMs: HETEROGENEOUS[i % 10]! * 50,
  }))
  const order: string[] = []
  let overbooked = 0
  within10(t, two, tasks, {
    onDecisions: (ds) => {
      for (const d of ds) if (d.type === 'assign') order.push(d.key)
    },
    onEvent: (sim) => {
      for (const id of sim.workerIds()) if (sim.heldKeys(id).length > 2) overbooked++
    },
  })
  t.is(overbooked, 0, 'durations vary: a worker holds a task only when it has a free process')
  t.deepEqual(
    order,
    tasks.map((x) => x.key),
    'tasks start in submission order, each on the first process that frees',
  )
})

test('long tasks first, then many short ones', (t) => {
  within10(t, two, [...many(5, 2000, 'long', 'long'), ...many(2000, 10, 'short', 'short')])
})

test('stealing: tasks prefetched behind a long one do not wait for it', (t) => {
  const workers = [
    { id: 'a', procs: 1 },
    { id: 'b', procs: 1 },
  ]
  const tasks = [{ key: 'long', durationMs: 10_000, fnKey: 'f' }, ...many(40, 100)]
  const r = within10(t, workers, tasks, { scheduler: { roundTripMs: Infinity } })
  t.true(r.steals.ok >= 1)
  // By default the durations vary too much for prefetching to pay: nothing waits behind `long`.
  const plain = within10(t, workers, tasks)
  t.is(plain.steals.requested, 0)
  t.is(plain.workers[0]!.tasksRun, 1, 'a runs only the long task')
})

test('a worker joining mid-run takes its share at once', (t) => {
  const workers = [
    { id: 'a', procs: 2 },
    { id: 'b', procs: 2, joinAtMs: 2000 },
  ]
  const r = within10(t, workers, many(400, 50))
  t.true(r.workers[1]!.tasksRun > 100)
})

test('one worker at half speed', (t) => {
  const workers = [
    { id: 'a', procs: 2 },
    { id: 'b', procs: 2, speed: 0.5 },
  ]
  const r = within10(t, workers, many(400, 50))
  const [fast, slow] = r.workers
  t.true(
    Math.abs(fast!.tasksRun / slow!.tasksRun - 2) < 0.2,
    `${fast!.tasksRun} vs ${slow!.tasksRun}`,
  )
})

test('heterogeneous workers (1 and 3 processes) get load in proportion', (t) => {
  const workers = [
    { id: 'a', procs: 1 },
    { id: 'b', procs: 3 },
  ]
  const r = within10(t, workers, many(400, 50))
  const [one, three] = r.workers
  t.true(
    Math.abs(three!.tasksRun / one!.tasksRun - 3) < 0.3,
    `${one!.tasksRun} vs ${three!.tasksRun}`,
  )
  within10(
    t,
    workers,
    Array.from({ length: 200 }, (_, i) => ({
      key: `h${i}`,
      durationMs: HETEROGENEOUS[i % 10]! * 100,
    })),
  )
})

test('every task finishes when a worker dies mid-run, with flaky functions retried', (t) => {
  const workers = [
    { id: 'a', procs: 2, leaveAtMs: 1000 },
    { id: 'b', procs: 2 },
    { id: 'c', procs: 1, joinAtMs: 1500 },
  ]
  const tasks = many(300, 20).map((task, i) =>
    i % 7 === 0 ? { ...task, failTimes: 1, retries: 1 } : task,
  )
  const r = simulate(workers, tasks)
  t.true(r.complete)
  t.is(r.finished, 300)
  t.true(r.workers[0]!.tasksRun > 0 && r.workers[2]!.tasksRun > 0)
})
