// Anchor: the path floor. The hops a task crosses in a LocalCluster with its client in its own
// process (client ─ws─► coordinator ─ws─► worker daemon ─pipe─► task process, and back), each
// process only decoding and encoding again what it passes on: what the cluster's path costs with
// no task logic, on this machine, in this run (children/path-hop.ts). Issue 14 asks for a ratio
// to it where a target against the one-hop echo is out of reach.
import type { ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'

import WebSocket from 'ws'

import { killChild, startLoopbackServer } from '../harness/children.js'
import { throughputSeries, type Ctx } from '../harness/measure.js'
import { withTimeout } from '../harness/timeout.js'
import { EchoClient, addEchoRoundTrip } from './wire-floor.js'

export const PATH_FLOOR = 'path floor: client → coordinator → daemon → task process, relays only'

const HOP_SCRIPT = fileURLToPath(new URL('../children/path-hop.ts', import.meta.url))

export async function pathFloorAnchor(ctx: Ctx): Promise<void> {
  const { config } = ctx
  const children: ChildProcess[] = []
  let client: EchoClient | undefined
  try {
    const daemon = await startLoopbackServer(HOP_SCRIPT, ['pipe-relay'], 'path hop pipe-relay')
    children.push(daemon.child)
    const coordinator = await startLoopbackServer(
      HOP_SCRIPT,
      ['relay', `ws://127.0.0.1:${daemon.port}`],
      'path hop relay',
    )
    children.push(coordinator.child)
    const ws = new WebSocket(`ws://127.0.0.1:${coordinator.port}`, { perMessageDeflate: false })
    await withTimeout(once(ws, 'open'), 10_000, 'path floor connect')
    const c = new EchoClient(ws)
    client = c
    // One round trip through all hops before timing: the relays dial their next hop on the
    // first connection, and that set-up is not the path's cost.
    c.send({ i: -1, x: 0 })
    await withTimeout(c.until(1), 30_000, 'path floor first reply')
    if (config.only.has('P1')) await addEchoRoundTrip(ctx, PATH_FLOOR, c)
    if (!config.only.has('P2')) return
    await throughputSeries(ctx, {
      scenario: 'P2',
      system: PATH_FLOOR,
      family: 'anchor',
      method: 'pipelined, 1,000 in flight',
      ns: config.ns,
      run: async (n) => {
        c.sum = 0
        await c.pipeline(n, 1000, 1, (f) => ({ i: f, x: f }))
        if (c.sum !== (n * (n + 1)) / 2) throw new Error('the path floor returned wrong values')
      },
    })
  } finally {
    client?.close()
    await Promise.all(children.map((child) => killChild(child)))
  }
}
