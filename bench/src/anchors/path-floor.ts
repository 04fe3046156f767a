// Anchor: the path floor. The hops a task crosses in a LocalCluster with its client in its own
// process (client ─ws─► coordinator ─ws─► worker daemon ─pipe─► task process, and back), each
// process only decoding and encoding again what it passes on: what the cluster's path costs with
// no task logic, on this machine, in this run (children/path-hop.ts). Issue 14 asks for a ratio
// to it where a target against the one-hop echo is out of reach.
import type { ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'

import WebSocket from 'ws'

import { killChild, startChild } from '../harness/children.js'
import { addRoundTrip, guarded, throughputSeries, type Ctx } from '../harness/measure.js'
import { withTimeout } from '../harness/timeout.js'
import { EchoClient } from './wire-floor.js'

export const PATH_FLOOR = 'path floor: client → coordinator → daemon → task process, relays only'

const HOP_SCRIPT = fileURLToPath(new URL('../children/path-hop.ts', import.meta.url))

/** Starts one hop server and waits for the port it prints. */
async function startHop(args: readonly string[]): Promise<{ child: ChildProcess; port: number }> {
  const child = startChild(process.execPath, ['--import=tsx', HOP_SCRIPT, ...args], {
    stdio: ['pipe', 'pipe', 'inherit'],
  })
  const lines = createInterface({ input: child.stdout! })
  const [line] = (await withTimeout(once(lines, 'line'), 30_000, `path hop ${args[0]} start`)) as [
    string,
  ]
  return { child, port: (JSON.parse(line) as { port: number }).port }
}

export async function pathFloorAnchor(ctx: Ctx): Promise<void> {
  const { config } = ctx
  const children: ChildProcess[] = []
  let client: EchoClient | undefined
  try {
    const daemon = await startHop(['pipe-relay'])
    children.push(daemon.child)
    const coordinator = await startHop(['relay', `ws://127.0.0.1:${daemon.port}`])
    children.push(coordinator.child)
    const ws = new WebSocket(`ws://127.0.0.1:${coordinator.port}`, { perMessageDeflate: false })
    await withTimeout(once(ws, 'open'), 10_000, 'path floor connect')
    const c = new EchoClient(ws)
    client = c
    // One round trip through all hops before timing: the relays dial their next hop on the
    // first connection, and that set-up is not the path's cost.
    c.send({ i: -1, x: 0 })
    await withTimeout(c.until(1), 30_000, 'path floor first reply')
    if (config.only.has('P1'))
      await guarded(ctx, 'P1', PATH_FLOOR, 120_000, async () => {
        await addRoundTrip(ctx, PATH_FLOOR, 'anchor', async (i) => {
          const target = c.received + 1
          c.send({ i, x: i })
          await c.until(target)
        })
      })
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
