// The foundation API's tests (issue 2 §6), written once and run on every executor kind:
// ThreadPoolExecutor, ProcessPoolExecutor, and ClusterExecutor (over WebSocket, and embedded).
// Everything is real: real task processes or threads, real sockets, real worker daemons.
//
// Tasks that must be observed from outside (started? aborted? ran at all?) leave marker files in
// a per-test temporary directory, and tasks that must finish in a chosen order wait for "gate"
// files the test creates: no test depends on how fast the machine is.
//
// The tests live in suite/*.ts by topic; this file wires them to one executor kind. Every test
// is serial: the cluster kinds share one LocalCluster per file, and tests that fill every slot
// (cancel, shutdown, gates) must have the slots to themselves. Files run in parallel.
import test from 'ava'

import { executorKit, type ExecutorKind, type ExecutorKit } from './helpers/executors.js'
import { describeProcess, descendants, leftAlive } from './helpers/processes.js'
import { dependencyTests } from './suite/dependencies.js'
import { faultTests } from './suite/faults.js'
import { lifecycleTests } from './suite/lifecycle.js'
import { mapTests } from './suite/map.js'
import { gated, scratch, type Suite } from './suite/shared.js'
import { taskTests } from './suite/tasks.js'
import { valueTests } from './suite/values.js'
import { waitingTests } from './suite/waiting.js'

/** Registers the whole suite for one executor kind. */
export function executorSuite(kind: ExecutorKind): void {
  let kit: ExecutorKit | undefined
  test.before(async () => {
    kit = await executorKit(kind)
  })
  test.after.always(async () => {
    await kit?.teardown()
  })

  const suite: Suite = {
    kind,
    get kit(): ExecutorKit {
      if (!kit) throw new Error('the executor kit is made in test.before')
      return kit
    },
    it(title, body, failingOn = []) {
      ;(failingOn.includes(kind) ? test.serial.failing : test.serial)(
        `${kind}: ${title}`,
        async (t) => {
          const ex = await suite.kit.make()
          t.teardown(() => ex.shutdown({ cancelFutures: true }))
          await body(t, ex)
        },
      )
    },
  }

  valueTests(suite)
  mapTests(suite)
  lifecycleTests(suite)
  waitingTests(suite)
  taskTests(suite)
  dependencyTests(suite)
  faultTests(suite)

  // ─── leaks (last: it tears the kit down) ────────────────────────────────────────────────────

  test.serial(`${kind}: shutting everything down leaves no process behind`, async (t) => {
    const ex = await suite.kit.make()
    // Make every slot start a process (or thread) if it has not yet.
    const s = scratch(t)
    const running = Array.from({ length: suite.kit.slots }, (_, i) =>
      ex.submit(gated, s.dir, `g${i}`),
    )
    for (let i = 0; i < suite.kit.slots; i++) await s.until(`g${i}.started`)
    const pids = descendants()
    if (kind === 'process')
      t.true(pids.length >= suite.kit.slots, `pool processes: ${pids.join(',')}`)
    if (suite.kit.cluster)
      t.true(pids.length >= 2 + suite.kit.slots, `daemons and their pools: ${pids.join(',')}`)
    for (let i = 0; i < suite.kit.slots; i++) s.open(`g${i}`)
    await Promise.all(running)
    await suite.kit.teardown()
    const left = await leftAlive(pids)
    t.deepEqual(left.map(describeProcess), [])
    t.deepEqual(descendants(), [])
  })
}
