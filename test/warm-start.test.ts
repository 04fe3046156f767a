// Task processes start with their worker, not on its first tasks (issue 14): the workers of
// `LocalCluster.start` register once theirs are up, so the start pays for them; a worker that
// joins later registers at once and starts its processes meanwhile.
import test from 'ava'

import { startCluster } from './helpers/cluster.js'
import { childrenOf, waitFor } from './helpers/processes.js'

test('every worker has all its task processes running when LocalCluster.start resolves', async (t) => {
  const cluster = await startCluster({ workers: 2, procs: 2 })
  try {
    const pids = cluster.workerPids
    t.is(pids.length, 2)
    // No task has been submitted: a lazy daemon would have no process yet.
    for (const daemon of pids) t.is(childrenOf(daemon).length, 2, `task processes of ${daemon}`)
    const ex = cluster.executor()
    t.is(await ex.submit((x: number) => x + 1, 1), 2)
    await ex.shutdown()
    for (const daemon of pids) t.is(childrenOf(daemon).length, 2, 'no process was started again')
  } finally {
    await cluster.close()
  }
})

test('a worker added later starts its task processes without waiting for a task', async (t) => {
  const cluster = await startCluster({ workers: 0 })
  try {
    const child = cluster.addWorker({ name: 'late', procs: 2 })
    await cluster.waitForWorkers(1, 60_000)
    await waitFor(() => childrenOf(child.pid!).length === 2, 'two task processes', 30_000)
    t.is(cluster.coordinator.status().totals.submitted, 0, 'no task was submitted')
  } finally {
    await cluster.close()
  }
})
