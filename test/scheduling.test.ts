// Dynamic load balancing with real worker processes: a worker that joins mid-run gets work at
// once, a slow worker gets fewer tasks, priorities and resources hold.
import { task, LocalCluster } from 'clusterpool'
import test from 'ava'

const sleepTask = async (ms: number): Promise<string> => {
  const slow = process.env.CP_TEST_SLOW === '1'
  await new Promise((r) => setTimeout(r, slow ? ms * 2 : ms))
  return process.env.CP_TEST_NAME ?? '?'
}

function doneBy(cluster: LocalCluster): Map<string, number> {
  return new Map(cluster.coordinator.status().workers.map((w) => [w.name, w.done]))
}

test.serial('a worker that joins mid-run takes work at once', async (t) => {
  // One task process each, so the late worker is as fast as the first one. What it must take is
  // a fair share of what was still left when it registered: how long it took to start (seconds
  // on a loaded machine) is not the scheduler's doing.
  const cluster = await LocalCluster.start({ workers: 0, workerOutput: 'ignore' })
  try {
    cluster.addWorker({ name: 'first', procs: 1, env: { CP_TEST_NAME: 'first' } })
    await cluster.waitForWorkers(1)
    const ex = cluster.executor()
    const futures = Array.from({ length: 100 }, () => ex.submit(sleepTask, 50))
    await new Promise((r) => setTimeout(r, 300))
    cluster.addWorker({ name: 'late', procs: 1, env: { CP_TEST_NAME: 'late' } })
    await cluster.waitForWorkers(2)
    const left = futures.filter((f) => !f.done()).length
    const ranOn = await Promise.all(futures)
    const late = ranOn.filter((n) => n === 'late').length
    t.true(left >= 20, `only ${left} of 100 tasks were left when the late worker registered`)
    t.true(late >= left / 3, `the late worker ran ${late} of the ${left} tasks left when it joined`)
    await ex.shutdown()
  } finally {
    await cluster.close()
  }
})

test.serial('a worker at half speed gets fewer tasks', async (t) => {
  const cluster = await LocalCluster.start({ workers: 0, workerOutput: 'ignore' })
  try {
    cluster.addWorker({ name: 'fast', env: { CP_TEST_NAME: 'fast' } })
    cluster.addWorker({ name: 'slow', env: { CP_TEST_NAME: 'slow', CP_TEST_SLOW: '1' } })
    await cluster.waitForWorkers(2)
    const ex = cluster.executor()
    const ranOn = await Promise.all(Array.from({ length: 80 }, () => ex.submit(sleepTask, 25)))
    const fast = ranOn.filter((n) => n === 'fast').length
    const slow = ranOn.filter((n) => n === 'slow').length
    t.is(fast + slow, 80)
    t.true(fast > slow, `fast ran ${fast}, slow ran ${slow}`)
    // The coordinator's counts agree with where the tasks say they ran.
    const done = doneBy(cluster)
    t.is(done.get('fast'), fast)
    t.is(done.get('slow'), slow)
    await ex.shutdown()
  } finally {
    await cluster.close()
  }
})

test.serial('higher priority runs first; resources are never oversubscribed', async (t) => {
  const cluster = await LocalCluster.start({ workers: 0, workerOutput: 'ignore' })
  try {
    cluster.addWorker({ name: 'gpu', procs: 2, args: ['--resources', 'GPU=1'] })
    await cluster.waitForWorkers(1)
    const ex = cluster.executor()
    // One GPU: tasks needing it run one at a time even though the worker has two processes.
    const gpuTask = task(
      async (ms: number) => {
        const start = Date.now()
        await new Promise((r) => setTimeout(r, ms))
        return [start, Date.now()]
      },
      { resources: { GPU: 1 } },
    )
    const spans = await Promise.all(Array.from({ length: 6 }, () => ex.submit(gpuTask, 40)))
    spans.sort((a, b) => a[0]! - b[0]!)
    for (let i = 1; i < spans.length; i++)
      t.true(spans[i]![0]! >= spans[i - 1]![1]!, 'GPU tasks overlapped')
    // Priorities: block both processes, queue low then high; high ones finish first. The second
    // block outlasts the queue, so one process runs it in the order it arrives: two processes
    // draining it side by side would finish tasks out of that order.
    const order: string[] = []
    const block = ex.submit(sleepTask, 300)
    const block2 = ex.submit(sleepTask, 1500)
    await new Promise((r) => setTimeout(r, 100))
    const tag = (label: string) =>
      task((l: string) => l, { priority: label.startsWith('high') ? 10 : 0 })
    const low = Array.from({ length: 5 }, (_, i) => ex.submit(tag(`low${i}`), `low${i}`))
    const high = Array.from({ length: 5 }, (_, i) => ex.submit(tag(`high${i}`), `high${i}`))
    for (const f of [...low, ...high])
      f.addDoneCallback((d) => void d.result().then((v) => order.push(v)))
    await Promise.all([block, block2, ...low, ...high])
    // The worker holds a few tasks beyond its running ones (saturation cap + prefetch), so the
    // first low ones may already sit there; every task still queued on the coordinator goes
    // by priority: each high one finishes before the last three low ones.
    const lastHigh = Math.max(...high.map((_, i) => order.indexOf(`high${i}`)))
    const lowsAfter = ['low2', 'low3', 'low4'].map((l) => order.indexOf(l))
    t.true(
      lowsAfter.every((i) => i > lastHigh),
      `order: ${order.join(' ')}`,
    )
    await ex.shutdown()
  } finally {
    await cluster.close()
  }
})

test.serial(
  'tiny tasks: queues sized by the measured round trip, and none behind a long task',
  async (t) => {
    const cluster = await LocalCluster.start({ workers: 0, workerOutput: 'ignore' })
    try {
      cluster.addWorker({ name: 'a', env: { CP_TEST_NAME: 'a' } })
      cluster.addWorker({ name: 'b', env: { CP_TEST_NAME: 'b' } })
      await cluster.waitForWorkers(2)
      const ex = cluster.executor()
      const where = (): string => process.env.CP_TEST_NAME ?? '?'
      // Learn the function (tiny) and the round trips.
      await Promise.all(Array.from({ length: 200 }, () => ex.submit(where)))
      for (const w of cluster.coordinator.status().workers) {
        t.true(w.roundTripMs > 0 && w.roundTripMs < 1000, `${w.name}: ${w.roundTripMs} ms`)
      }
      const long = ex.submit(sleepTask, 3000)
      await new Promise((r) => setTimeout(r, 300))
      const busy = cluster.coordinator.status().workers.find((w) => w.running > 0)?.name
      if (busy === undefined) return t.fail('the long task does not run')
      const ranOn = await Promise.all(Array.from({ length: 500 }, () => ex.submit(where)))
      t.false(long.done(), 'the short tasks did not wait for the long one')
      t.is(
        ranOn.filter((n) => n === busy).length,
        0,
        `none ran on ${busy}, busy with the long task`,
      )
      t.is(await long, busy)
      await ex.shutdown()
    } finally {
      await cluster.close()
    }
  },
)
