// TaskPool's memory guard (rssShareFile) and restartChildren: a process past its RSS share is
// killed by its own guard thread and its task fails saying memory, with both figures; the pool
// goes on with a new process; restartChildren kills every process, naming why.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import test from 'ava'

import { PoolHarness, errorOf, sleep, valueOf } from './fixtures/pool-harness.js'

/** Fills `mb` MB of Buffers (outside the V8 heap) and returns how many it made. */
const fill = (mb: number): number => {
  const bufs: Buffer[] = []
  for (let i = 0; i < mb / 16; i++) bufs.push(Buffer.alloc(16e6, 1))
  return bufs.length
}

const pid = (): number => process.pid

test.serial(
  'a process past its share is killed by its guard; the task fails saying memory; the next runs',
  async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'cp-pool-mem-'))
    t.teardown(() => rmSync(dir, { recursive: true, force: true }))
    const share = join(dir, 'share')
    writeFileSync(share, String(200e6))
    const h = new PoolHarness({ kind: 'process', maxWorkers: 1, rssShareFile: share })
    const first = valueOf(await h.run(pid).outcome) as number
    t.is(valueOf(await h.run(fill, [64]).outcome), 4, 'under its share it runs')
    const hog = h.run(fill, [1000])
    const error = errorOf(await hog.outcome)
    t.is(error.name, 'WorkerDiedError')
    t.regex(
      error.message,
      new RegExp(
        `^the process running task ${hog.id} \\(fill\\) was killed for using too much memory: its resident memory reached [\\d.]+ MiB, over its share of 190\\.7 MiB`,
      ),
    )
    t.like(error.props, { signal: 'SIGKILL' })
    const second = valueOf(await h.run(pid).outcome) as number
    t.not(second, first, 'a new process')
    // The share moves with the file: a smaller one stops what the old one allowed.
    writeFileSync(share, String(120e6))
    await sleep(300)
    t.regex(errorOf(await h.run(fill, [160]).outcome).message, /too much memory/)
    await h.pool.close()
    t.deepEqual(h.violations, [])
  },
)

test.serial(
  'restartChildren kills every process; its running task fails naming the reason',
  async (t) => {
    const h = new PoolHarness({ kind: 'process', maxWorkers: 2 })
    const sleeper = async (ms: number): Promise<number> => {
      await new Promise((resolve) => setTimeout(resolve, ms))
      return ms
    }
    valueOf(await h.run(sleeper, [1]).outcome)
    const long = h.run(sleeper, [30_000])
    await sleep(300)
    t.is(h.pool.restartChildren('paused for memory too long'), 1)
    const error = errorOf(await long.outcome)
    t.is(error.name, 'WorkerDiedError')
    t.regex(error.message, /was killed: paused for memory too long$/)
    t.is(valueOf(await h.run(sleeper, [1]).outcome), 1, 'new processes take the next tasks')
    await h.pool.close()
  },
)
