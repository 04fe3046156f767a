// Anchor: the path floor. The hops a task crosses in a LocalCluster with its client in its own
// process (client ─ws─► coordinator ─ws─► worker daemon ─pipe─► task process, and back), each
// process only decoding and encoding again what it passes on: what the cluster's path costs with
// no task logic, on this machine, in this run (children/path-hop.ts). Issue 14 asks for a ratio
// to it where a target against the one-hop echo is out of reach.
import type { ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'

import WebSocket from 'ws'

import { killChild, runJsonLines, startLoopbackServer } from '../harness/children.js'
import { addFreshRoundTrips, throughputSeries, type Ctx } from '../harness/measure.js'
import { withTimeout } from '../harness/timeout.js'
import { EchoClient, addEchoRoundTrip } from './wire-floor.js'

export const PATH_FLOOR = 'path floor: client → coordinator → daemon → task process, relays only'

/** P1's method for the path floor's first round trips on fresh processes. */
export const freshPathMethod = (count: number): string => `first ${count} of fresh hops`

const HOP_SCRIPT = fileURLToPath(new URL('../children/path-hop.ts', import.meta.url))
const CLIENT_SCRIPT = fileURLToPath(new URL('../children/path-floor-client.ts', import.meta.url))

/** The relays of the path, started fresh: the coordinator's place, whose url a client dials. */
async function startHops(children: ChildProcess[]): Promise<string> {
  const daemon = await startLoopbackServer(HOP_SCRIPT, ['pipe-relay'], 'path hop pipe-relay')
  children.push(daemon.child)
  const coordinator = await startLoopbackServer(
    HOP_SCRIPT,
    ['relay', `ws://127.0.0.1:${daemon.port}`],
    'path hop relay',
  )
  children.push(coordinator.child)
  return `ws://127.0.0.1:${coordinator.port}`
}

export async function pathFloorAnchor(ctx: Ctx): Promise<void> {
  const { config } = ctx
  const children: ChildProcess[] = []
  let client: EchoClient | undefined
  try {
    const ws = new WebSocket(await startHops(children), { perMessageDeflate: false })
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

/**
 * The floor of P1's first round trips of a fresh cluster: per run, the relays start fresh and a
 * new client process (children/path-floor-client.ts) times its first `config.firstRoundTrips`
 * round trips, after one that lets the relays dial their next hop. Cold code on the same hops
 * with no task logic: what V8's tier-up costs the path itself. Reported as the fresh cluster is
 * (scenarios/own-client.ts): the median of the runs' medians, p99 over every sample.
 */
export async function freshPathFloor(ctx: Ctx): Promise<void> {
  const { config } = ctx
  const count = config.firstRoundTrips
  const perRun: number[][] = []
  for (let r = 0; r < config.freshClusters; r++) {
    const children: ChildProcess[] = []
    let samples: number[] | undefined
    try {
      const url = await startHops(children)
      const run = await runJsonLines(
        process.execPath,
        ['--import=tsx', CLIENT_SCRIPT, url, String(count)],
        120_000,
        (line) => {
          if (line.type === 'first') samples = line.samples as number[]
        },
      )
      if (run.code !== 0)
        throw new Error(`the path floor client exited ${run.code ?? run.signal}: ${run.stderrTail}`)
    } finally {
      await Promise.all(children.map((child) => killChild(child)))
    }
    if (samples?.length !== count) throw new Error('the path floor client reported no round trips')
    perRun.push(samples)
  }
  addFreshRoundTrips(
    ctx,
    {
      system: PATH_FLOOR,
      family: 'anchor',
      method: freshPathMethod(count),
      note: `${freshPathMethod(count)}: new relay and client processes per run (${config.freshClusters} runs), after one round trip that lets the relays connect`,
    },
    perRun,
  )
}
