// Hostile peers against a real coordinator (in this process) and its LocalCluster's worker
// daemons: while an honest client runs checked tasks, authenticated hostile clients send mutated
// frames and lying workers send reports on tasks they were never given. Used by the live fuzz
// test (test/fuzz.test.ts) and by the benchmark's P7, which reports the loop lag precisely.
import { monitorEventLoopDelay } from 'node:perf_hooks'

import { createEncoder, PROTOCOL_VERSION, sourceHash } from '@clusterpool/protocol'
import { task, type LocalCluster } from 'clusterpool'
import WebSocket from 'ws'

import { isAlive } from './processes.js'

/** A small deterministic PRNG (mulberry32), so a failing seed can be replayed. */
function prng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let x = Math.imul(a ^ (a >>> 15), 1 | a)
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296
  }
}

let rand = prng(1)
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!
const int = (n: number): number => Math.floor(rand() * n)

/** Values a mutation puts where a field was: wrong types, huge or negative numbers, nesting. */
function junk(): unknown {
  switch (int(12)) {
    case 0:
      return -1
    case 1:
      return 2 ** 53 + int(10)
    case 2:
      return 'x'.repeat(int(5000))
    case 3:
      return null
    case 4:
      return [junk(), junk()]
    case 5:
      return { kind: junk(), ids: [1, 1, 1] }
    case 6:
      return Uint8Array.from({ length: int(64) }, () => int(256))
    case 7:
      return BigInt(int(1e9)) * 10n ** BigInt(int(30))
    case 8:
      return Array.from({ length: int(3000) }, () => 1)
    case 9:
      return 'alpha,beta'
    case 10:
      return NaN
    default:
      return int(100)
  }
}

function mutate(message: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...message }
  const keys = Object.keys(out)
  for (let n = 1 + int(3); n > 0; n--) {
    const key = pick(keys)
    switch (int(4)) {
      case 0:
        delete out[key]
        break
      case 1:
        out[key] = junk()
        break
      case 2:
        out[`${key}${int(9)}`] = junk()
        break
      default:
        break // unchanged: sometimes a message is valid and must be handled as such
    }
  }
  return out
}

/** Valid client messages to mutate, including a forged source for an honest function's hash. */
function clientMessage(seq: number): Record<string, unknown> {
  const honest = '(x) => x * 3 + 1'
  const fn =
    int(3) === 0
      ? { kind: 'source', hash: sourceHash(honest), source: '(x) => -777', name: 'forged' }
      : {
          kind: 'source',
          hash: sourceHash(`(x) => x + ${seq}`),
          source: `(x) => x + ${seq}`,
          name: '',
        }
  const args = Uint8Array.of(0x91, 0x01)
  switch (int(7)) {
    case 0:
    case 1:
      return {
        kind: 'submit',
        tasks: [{ id: seq, fn, args, deps: int(2) ? [seq - 1] : undefined }],
      }
    case 2:
      return { kind: 'cancel', ids: [seq - 1, seq] }
    case 3:
      return { kind: 'release', ids: [seq - 2] }
    case 4:
      return { kind: 'gather', ids: Array.from({ length: 1 + int(50) }, () => seq - 1) }
    case 5:
      return { kind: 'scatter', items: [{ id: seq, value: Uint8Array.of(0xa1, 0x61) }] }
    default:
      return { kind: 'ping', seq }
  }
}

/** Lies a worker tells: results, errors and steal replies for tasks it was never given. */
function workerMessage(victim: string, newest: number): Record<string, unknown> {
  // Keys of the honest client's latest tasks: some are running on the real workers right now.
  const key = `${victim}:${Math.max(1, newest - int(60))}`
  switch (int(5)) {
    case 0:
      return {
        kind: 'results',
        items: [{ key, value: Uint8Array.of(0xa4, 0x46, 0x41, 0x4b, 0x45), durationMs: 1 }],
      }
    case 1:
      return { kind: 'results', items: [{ key, held: 70_000, durationMs: 1 }] }
    case 2:
      return {
        kind: 'errors',
        items: [{ key, error: { name: 'Error', message: 'lie' }, durationMs: 1 }],
      }
    case 3:
      return { kind: 'stealReply', key, ok: true }
    default:
      return { kind: 'data', items: [{ key, value: Uint8Array.of(0xc0) }] }
  }
}

interface Hostile {
  ws: WebSocket
  open: Promise<void>
  closed: boolean
}

function connect(cluster: LocalCluster, role: 'client' | 'worker', n: number): Hostile {
  const token = role === 'client' ? cluster.clientToken : cluster.workerToken
  const ws = new WebSocket(cluster.url, { headers: { authorization: `Bearer ${token}` } })
  const peer: Hostile = {
    ws,
    open: new Promise((resolve) => ws.once('open', () => resolve())),
    closed: false,
  }
  ws.on('close', () => (peer.closed = true))
  ws.on('error', () => {})
  ws.on('message', () => {})
  const encoder = createEncoder()
  const hello =
    role === 'client'
      ? { kind: 'hello', version: PROTOCOL_VERSION, role, name: `hostile-${n}` }
      : {
          kind: 'hello',
          version: PROTOCOL_VERSION,
          role,
          name: `liar-${n}`,
          host: 'liar',
          pid: 1,
          procs: 1,
          resources: {},
          memoryBytes: 1e9,
        }
  void peer.open.then(() => ws.send(encoder.encode([hello])))
  return peer
}

/** Sends `frames` frames of mutated messages, reconnecting whenever the coordinator closes us. */
async function attack(
  cluster: LocalCluster,
  role: 'client' | 'worker',
  frames: number,
  victim: string,
  newest: () => number,
): Promise<{ sent: number; connections: number }> {
  const encoder = createEncoder()
  let peer = connect(cluster, role, 0)
  let connections = 1
  await peer.open
  for (let i = 0; i < frames; i++) {
    if (peer.closed) {
      peer = connect(cluster, role, connections++)
      await peer.open
    }
    // Client frames are mutated; most lies are well-formed, so they reach the checks.
    const messages = Array.from({ length: 1 + int(4) }, () =>
      role === 'client'
        ? mutate(clientMessage(i + 1))
        : int(4) === 0
          ? mutate(workerMessage(victim, newest()))
          : workerMessage(victim, newest()),
    )
    try {
      peer.ws.send(encoder.encode(messages))
    } catch {
      // an unencodable mutation (msgpackr refuses it here); skip it
    }
    // Spread over the honest client's run, a little at a time.
    if (i % 10 === 0) await new Promise((resolve) => setTimeout(resolve, 5))
  }
  peer.ws.terminate()
  return { sent: frames, connections }
}

export interface HostileOptions {
  /** Mutated client frames to send. */
  clientFrames: number
  /** Lying worker frames to send. */
  workerFrames: number
  /** Seeds every random choice, so a run can be replayed. */
  seed: number
}

export interface HostileOutcome {
  /** Honest results that were not the right value. */
  wrong: number
  checked: number
  clientConnections: number
  workerConnections: number
  /** Worst and 99th-percentile event-loop delay of this process (the coordinator's), ms. */
  maxLagMs: number
  p99LagMs: number
  rssGrowthMiB: number
  statusBytes: number
  /** The cluster's worker daemons still running after the attack. */
  workersAlive: boolean
  /** A client that connects after the attack gets a right answer. */
  freshClientWorks: boolean
}

/** One hostile run against `cluster` (workers named local-1 and local-2 run the honest tasks). */
export async function hostileRun(
  cluster: LocalCluster,
  options: HostileOptions,
): Promise<HostileOutcome> {
  rand = prng(options.seed)
  const honest = await cluster.connect({ name: 'honest' })
  try {
    const workerPids = cluster.workerPids
    const onRealWorkers = task(
      async (x: number) => {
        await new Promise((resolve) => setTimeout(resolve, 2))
        return x * 3 + 1
      },
      { workers: ['local-1', 'local-2'] },
    )
    const bigOnRealWorkers = task((n: number) => 'v'.repeat(n) + String(n), {
      workers: ['local-1', 'local-2'],
    })
    const lag = monitorEventLoopDelay({ resolution: 10 })
    lag.enable()
    const rss0 = process.memoryUsage().rss
    let wrong = 0
    let checked = 0
    let stop = false
    let submitted = 0
    const honestWork = (async () => {
      for (let round = 0; !stop || round < 5; round++) {
        const xs = Array.from({ length: 50 }, (_, i) => round * 50 + i)
        const small = xs.map((x) => honest.submit(onRealWorkers, x))
        const big = honest.submit(bigOnRealWorkers, 70_000 + round)
        submitted += 51 // the client numbers its tasks 1, 2, 3… in submission order
        const values = await Promise.all(small)
        for (const [i, v] of values.entries()) if (v !== xs[i]! * 3 + 1) wrong++
        const n = 70_000 + round
        if ((await big) !== 'v'.repeat(n) + String(n)) wrong++
        checked += 51
      }
    })()
    const [clients, workers] = await Promise.all([
      attack(cluster, 'client', options.clientFrames, honest.clientId, () => submitted),
      attack(cluster, 'worker', options.workerFrames, honest.clientId, () => submitted),
    ])
    stop = true
    await honestWork
    lag.disable()
    const rssGrowthMiB = (process.memoryUsage().rss - rss0) / 2 ** 20
    const fresh = await cluster.connect({ name: 'fresh' })
    const freshClientWorks = (await fresh.submit((x: number) => x + 1, 41)) === 42
    await fresh.shutdown()
    const res = await fetch(`${cluster.httpUrl}/api/status`, {
      headers: { authorization: `Bearer ${cluster.clientToken}` },
    })
    const statusBytes = (await res.text()).length
    return {
      wrong,
      checked,
      clientConnections: clients.connections,
      workerConnections: workers.connections,
      maxLagMs: lag.max / 1e6,
      p99LagMs: lag.percentile(99) / 1e6,
      rssGrowthMiB,
      statusBytes,
      workersAlive: workerPids.every((pid) => isAlive(pid)),
      freshClientWorks,
    }
  } finally {
    await honest.shutdown({ cancelFutures: true })
  }
}
