// Worker memory management with real processes: a worker under --memory-limit spills held
// values to disk, kills a task process over its share, pauses and resumes, restarts task
// processes stuck over the limit, and survives a full spill area. RSS is sampled by the test
// from /proc (the daemon and its task processes), not taken from the daemon's own report.
import { LocalCluster, WorkerDiedError, type ClusterExecutor } from 'clusterpool'
import test from 'ava'

import { RssSampler } from './helpers/memory.js'
import { isAlive, waitFor } from './helpers/processes.js'

const MB = 2 ** 20

/** 16 MiB whose every byte is `i`, as the result to hold. */
const block = (i: number): Uint8Array => new Uint8Array(16 * 2 ** 20).fill(i)

/** Allocates about 2 GB in Buffers (outside the V8 heap) and touches every page. */
const hog = (): number => {
  const bufs: Buffer[] = []
  for (let i = 0; i < 128; i++) bufs.push(Buffer.alloc(16 * 2 ** 20, 1))
  return bufs.length
}

/** Whether `v` is 16 MiB of `i`. */
function intact(v: Uint8Array, i: number): boolean {
  if (v.byteLength !== 16 * MB) return false
  for (let j = 0; j < v.byteLength; j += 4093) if (v[j] !== i) return false
  return v[v.byteLength - 1] === i
}

async function oneWorker(
  args: string[],
  body: (cluster: LocalCluster, ex: ClusterExecutor, pid: number) => Promise<void>,
): Promise<void> {
  const cluster = await LocalCluster.start({ workers: 0, workerOutput: 'ignore' })
  try {
    const child = cluster.addWorker({ procs: 1, name: 'limited', args })
    await cluster.waitForWorkers(1)
    const ex = cluster.executor()
    await body(cluster, ex, child.pid!)
    await ex.shutdown()
  } finally {
    await cluster.close()
  }
}

test.serial(
  '--memory-limit 400MB --procs 1: 48 held results of 16 MB come back, the 2 GB task fails alone, RSS stays within 1.25× the limit',
  async (t) => {
    await oneWorker(['--memory-limit', '400MB'], async (cluster, ex, pid) => {
      const limit = 400e6
      const sampler = new RssSampler(pid, 50)
      try {
        const futures = Array.from({ length: 48 }, (_, i) => ex.submit(block, i))
        // Held on the worker until awaited: wait for them to finish, then read them back.
        await waitFor(
          () => futures.every((f) => f.done()),
          'the 48 results to be computed',
          240_000,
          100,
        )
        const status = cluster.coordinator.status().workers[0]!
        t.log(
          `held ${status.heldBytes / MB} MiB; peak RSS so far ${(sampler.peak / MB).toFixed(0)} MiB`,
        )
        for (let i = 0; i < 48; i++) {
          const v = await futures[i]!.result()
          t.true(intact(v, i), `value ${i} came back intact`)
        }
        const err = await t.throwsAsync(ex.submit(hog).result(), { instanceOf: WorkerDiedError })
        t.regex(err!.message, /memory/, 'the error says memory')
        t.log(err!.message)
        t.is(await ex.submit((x: number) => x + 1, 41).result(), 42, 'the next task runs')
        t.true(isAlive(pid), 'the daemon lives')
      } finally {
        sampler.stop()
      }
      const peak = sampler.peak
      t.log(
        `peak RSS of the worker host's processes: ${(peak / MB).toFixed(0)} MiB = ` +
          `${(peak / limit).toFixed(2)}× the limit, over ${sampler.samples.length} samples`,
      )
      t.true(sampler.samples.length > 10)
      t.true(peak <= 1.25 * limit, `peak ${peak} within 1.25 × ${limit}`)
    })
  },
)
