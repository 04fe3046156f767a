// The client end of P1's fresh path floor (anchors/path-floor.ts): a process of its own, as the
// fresh cluster's client is, that connects to the path's first relay, makes one round trip (the
// relays dial their next hop and start the leaf on the first connection, which a started
// cluster has already done), then times `count` sequential round trips and prints
// `{ "type": "first", "samples": [ms, ...] }`.
// Usage: node --import=tsx path-floor-client.ts <url> <count>
import { once } from 'node:events'

import WebSocket from 'ws'

import { EchoClient } from '../anchors/wire-floor.js'
import { withTimeout } from '../harness/timeout.js'

const [url, countArg] = process.argv.slice(2)
const count = Number(countArg)
if (!url || !Number.isInteger(count) || count < 1) throw new Error('usage: <url> <count>')

const ws = new WebSocket(url, { perMessageDeflate: false })
await withTimeout(once(ws, 'open'), 10_000, 'path floor client connect')
const c = new EchoClient(ws)
c.send({ i: -1, x: 0 })
await withTimeout(c.until(1), 30_000, 'path floor client first reply')
const samples = new Array<number>(count)
for (let i = 0; i < count; i++) {
  const t0 = performance.now()
  const target = c.received + 1
  c.send({ i, x: i })
  await c.until(target)
  samples[i] = performance.now() - t0
}
process.stdout.write(`${JSON.stringify({ type: 'first', samples })}\n`)
c.close()
process.exit(0)
