// P11 helper process: a fleet of simulated workers (`SimWorker`), each its own WebSocket to the
// coordinator, all in this one process. Talks to the bench over IPC:
//   → `{ ready: workers }` once every worker is welcomed, or `{ error }`;
//   ← `{ cmd: 'reset' }` starts a new measuring window (answered `{ reset: true }`);
//   ← `{ cmd: 'stats' }` → `{ stats }`: the window's heartbeat → pong times, tasks answered,
//      and this process's own event-loop delay (a busy fleet would inflate the times it measures);
//   ← `{ cmd: 'close' }` closes every socket and exits.
// Usage: node --import=tsx p11-fleet.ts <url> <token|-> <workers> <procs> <durationMs>
import { monitorEventLoopDelay } from 'node:perf_hooks'

import { SimWorker } from './p11-sim-worker.js'

const [url, tokenArg, workersArg, procsArg, durationArg] = process.argv.slice(2)
const token = tokenArg === undefined || tokenArg === '-' ? undefined : tokenArg
const count = Number(workersArg)
const procs = Number(procsArg)
const durationMs = Number(durationArg)

/** Handshakes in flight at once while the fleet connects. */
const CONNECTING_AT_ONCE = 20

function send(message: object): void {
  process.send?.(message)
}

let rtts: number[] = []
/** The window's start: a heartbeat sent before it (its pong late behind a pause) is not in it. */
let windowStart = 0
const delay = monitorEventLoopDelay({ resolution: 10 })
delay.enable()

const workers: SimWorker[] = []
try {
  for (let i = 0; i < count; i += CONNECTING_AT_ONCE) {
    const batch: SimWorker[] = []
    for (let j = i; j < Math.min(count, i + CONNECTING_AT_ONCE); j++)
      batch.push(
        new SimWorker({
          url: url!,
          token,
          name: `sim-${j}`,
          procs,
          durationMs,
          onHeartbeatRtt: (ms, sentAt) => {
            if (sentAt >= windowStart) rtts.push(ms)
          },
        }),
      )
    await Promise.all(batch.map((w) => w.connect()))
    workers.push(...batch)
  }
  send({ ready: workers.length })
} catch (error) {
  send({ error: `the fleet could not connect: ${(error as Error).message}` })
  for (const w of workers) w.close()
  process.exit(0)
}

process.on('message', (m: { cmd?: 'reset' | 'stats' | 'close' }) => {
  switch (m.cmd) {
    case 'reset':
      rtts = []
      windowStart = performance.now()
      delay.reset()
      send({ reset: true })
      break
    case 'stats':
      send({
        stats: {
          heartbeatRttsMs: rtts,
          done: workers.reduce((n, w) => n + w.done, 0),
          closed: workers.filter((w) => w.closed).length,
          fleetDelayP99Ms: delay.percentile(99) / 1e6,
        },
      })
      break
    case 'close':
      for (const w of workers) w.close()
      process.exit(0)
      break
    case undefined:
      break
  }
})
process.on('disconnect', () => process.exit(0))
