// Data locality with real worker processes: big results stay on the worker that made them,
// scattered data runs its dependents where it is, values move between workers only when a
// task runs elsewhere, and a value goes away once no future refers to it.
import { DataLostError, DependencyError } from '@clusterpool/protocol'
import { LocalCluster, task, type ClusterExecutor } from 'clusterpool'
import { settledState } from '@clusterpool/client/internal'
import test from 'ava'

/** Where a task ran, and a checksum of the bytes it received. */
const inspect = (data: Uint8Array): { on: string; sum: number; length: number } => {
  let sum = 0
  for (let i = 0; i < data.length; i += 4096) sum += data[i]!
  return { on: process.env.CP_TEST_NAME ?? '?', sum, length: data.length }
}

const makeBytes = (n: number, fill: number): Uint8Array => new Uint8Array(n).fill(fill)

const MB = 1 << 20

/** Runs `body` against a cluster of two one-process workers, alpha and beta. */
async function withTwoWorkers(
  body: (cluster: LocalCluster, ex: ClusterExecutor) => Promise<void>,
): Promise<void> {
  const cluster = await LocalCluster.start({ workers: 0, workerOutput: 'ignore' })
  try {
    cluster.addWorker({ name: 'alpha', env: { CP_TEST_NAME: 'alpha' } })
    cluster.addWorker({ name: 'beta', env: { CP_TEST_NAME: 'beta' } })
    await cluster.waitForWorkers(2)
    const ex = cluster.executor()
    await body(cluster, ex)
    await ex.shutdown()
  } finally {
    await cluster.close()
  }
}

function held(cluster: LocalCluster): Map<string, number> {
  return new Map(cluster.coordinator.status().workers.map((w) => [w.name, w.heldBytes]))
}

/** Polls the coordinator's status (heartbeats come every second) until `check` holds. */
async function until(check: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`)
    await new Promise((r) => setTimeout(r, 100))
  }
}

test.serial('scatter, then dependents run on the worker holding the data', async (t) => {
  await withTwoWorkers(async (cluster, ex) => {
    const a = ex.scatter(makeBytes(4 * MB, 1))
    const b = ex.scatter(makeBytes(4 * MB, 2))
    const [ra, rb] = await Promise.all([ex.submit(inspect, a), ex.submit(inspect, b)])
    t.is(ra.length, 4 * MB)
    t.is(ra.sum, 1024, 'the dependent received the scattered bytes')
    t.is(rb.sum, 2048)
    // The two values went to different workers (the one holding fewer), and each dependent
    // ran where its input was: nothing was moved.
    t.not(ra.on, rb.on)
    t.deepEqual(cluster.coordinator.status().transfers, { values: 0, bytes: 0 })
    await until(() => [...held(cluster).values()].every((n) => n >= 4 * MB), 'both hold 4 MB')
    // Awaiting a scattered future fetches the value back.
    const back = await a
    t.is(back.length, 4 * MB)
    t.is(back[123], 1)
    t.is(cluster.coordinator.status().transfers.values, 1)
  })
})

test.serial('a big result stays on its worker until awaited; a small one is pushed', async (t) => {
  await withTwoWorkers(async (cluster, ex) => {
    const small = ex.submit(makeBytes, 1000, 3)
    t.is((await small).length, 1000)
    const big = ex.submit(makeBytes, 2 * MB, 5)
    await until(() => cluster.coordinator.status().totals.finished === 2, 'the big task finished')
    await until(() => [...held(cluster).values()].some((n) => n >= 2 * MB), 'a worker holds it')
    t.is(settledState(big), 'running', 'not fetched while nobody awaits it')
    t.is(cluster.coordinator.status().transfers.values, 0)
    const value = await big
    t.is(value.length, 2 * MB)
    t.is(value[MB], 5)
    const transfers = cluster.coordinator.status().transfers
    t.is(transfers.values, 1)
    t.true(transfers.bytes >= 2 * MB)
  })
})

test.serial('an input on another worker is relayed once and kept there as a replica', async (t) => {
  await withTwoWorkers(async (cluster, ex) => {
    const onAlpha = ex.scatter(makeBytes(3 * MB, 4), { workers: ['alpha'] })
    t.is((await ex.submit(inspect, onAlpha)).on, 'alpha', 'scattered where it was asked to go')
    const other = 'beta'
    const elsewhere = task(inspect, { workers: [other] })
    const r1 = await ex.submit(elsewhere, onAlpha)
    t.is(r1.on, other)
    t.is(r1.sum, 4 * 768)
    t.is(cluster.coordinator.status().transfers.values, 1)
    // The receiving worker kept a replica: the next dependent there needs no transfer.
    const r2 = await ex.submit(elsewhere, onAlpha)
    t.is(r2.on, other)
    t.is(cluster.coordinator.status().transfers.values, 1)
    await until(() => [...held(cluster).values()].every((n) => n >= 3 * MB), 'both hold a copy')
  })
})

test.serial('a value no future refers to is dropped from its worker', async (t) => {
  await withTwoWorkers(async (cluster, ex) => {
    let big: unknown = ex.submit(makeBytes, 8 * MB, 1)
    await until(() => [...held(cluster).values()].some((n) => n >= 8 * MB), 'a worker holds it')
    t.truthy(big)
    big = undefined
    // Collect the future; the executor then tells the coordinator, which tells the worker.
    await until(
      () => {
        globalThis.gc?.()
        return [...held(cluster).values()].every((n) => n === 0)
      },
      'the worker dropped it',
      20_000,
    )
    t.pass()
  })
})

test.serial(
  'scattered data lost with its worker: DataLostError, and dependents fail',
  async (t) => {
    await withTwoWorkers(async (cluster, ex) => {
      const data = ex.scatter(makeBytes(MB, 9))
      const where = await ex.submit(inspect, data)
      const victim = cluster.coordinator.status().workers.find((w) => w.name === where.on)!
      process.kill(victim.pid, 'SIGKILL')
      await until(() => cluster.coordinator.status().workers.length === 1, 'the worker is gone')
      const error = await t.throwsAsync(data.result())
      t.true(error instanceof DataLostError, String(error))
      const dependent = ex.submit(inspect, data)
      const depError = await t.throwsAsync(dependent.result())
      t.true(depError instanceof DependencyError, String(depError))
      // The cluster goes on.
      t.is(await ex.submit((x: number) => x + 1, 1), 2)
    })
  },
)
