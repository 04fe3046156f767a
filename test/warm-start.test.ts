// A cluster is warm when it has started (issue 14): a worker daemon starts its task processes
// before it registers, so `LocalCluster.start` pays for them and the first task does not.
import test from 'ava'

import { startCluster } from './helpers/cluster.js'
import { childrenOf } from './helpers/processes.js'

test('every worker has all its task processes running when LocalCluster.start resolves', async (t) => {
  const cluster = await startCluster({ workers: 2, procs: 2 })
  try {
    const pids = cluster.workerPids
    t.is(pids.length, 2)
    // No task has been submitted: without the warm-up a daemon starts its processes lazily.
    for (const daemon of pids) t.is(childrenOf(daemon).length, 2, `task processes of ${daemon}`)
    const ex = cluster.executor()
    t.is(await ex.submit((x: number) => x + 1, 1), 2)
    await ex.shutdown()
    for (const daemon of pids) t.is(childrenOf(daemon).length, 2, 'no process was started again')
  } finally {
    await cluster.close()
  }
})
