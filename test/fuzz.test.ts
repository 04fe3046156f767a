// A live fuzz of a real coordinator (in this process) with two real worker daemons: while an
// honest client runs checked tasks, authenticated hostile peers send a few thousand mutated
// client frames and lying worker frames (see helpers/hostile.ts). The honest results must all be
// right, the coordinator and the workers must stay up, /api/status must stay small, and the
// event loop must not stall. FUZZ_SEED replays another run.
import test from 'ava'

import { startCluster } from './helpers/cluster.js'
import { hostileRun } from './helpers/hostile.js'

const SEED = Number(process.env.FUZZ_SEED ?? 20261202)

test('hostile and lying peers corrupt no honest result and take nothing down', async (t) => {
  const cluster = await startCluster({ workers: 2, procs: 1 })
  t.teardown(() => cluster.close())
  const out = await hostileRun(cluster, { clientFrames: 2500, workerFrames: 1000, seed: SEED })
  t.log(
    `seed ${SEED}: client frames over ${out.clientConnections} connections, worker frames over ` +
      `${out.workerConnections}; ${out.checked} honest results checked; worst loop lag ` +
      `${out.maxLagMs.toFixed(0)} ms (p99 ${out.p99LagMs.toFixed(0)}); RSS growth ` +
      `${out.rssGrowthMiB.toFixed(0)} MiB; /api/status ${out.statusBytes} bytes`,
  )
  t.is(out.wrong, 0, `${out.wrong} of ${out.checked} honest results were wrong`)
  t.true(out.checked >= 255)
  t.true(out.workersAlive, 'the worker daemons are still running')
  t.true(out.freshClientWorks, 'a client that connects afterwards works')
  t.true(out.statusBytes < 1_000_000, `/api/status is ${out.statusBytes} bytes`)
  // Generous bounds for a shared 2-core machine; the bench's P7 reports the precise figures.
  t.true(out.maxLagMs < 1000, `worst event-loop lag ${out.maxLagMs.toFixed(0)} ms`)
  t.true(out.rssGrowthMiB < 256, `RSS grew ${out.rssGrowthMiB.toFixed(0)} MiB`)
})
