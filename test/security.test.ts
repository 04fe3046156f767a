// The security baseline and bad peers (issue 3 §5, §7, §8, §10): tokens at the HTTP upgrade,
// frames that break the protocol, oversize frames, other protocol versions, binding rules, the
// worker CLI's refusal, and the status endpoints. Every bad peer is refused while another
// client ("the witness") keeps working on the same coordinator.
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'

import {
  AuthError,
  ClusterExecutor,
  InvalidOptionError,
  PayloadTooLargeError,
  Coordinator,
  task,
  type LocalCluster,
} from 'clusterpool'
import {
  CloseCode,
  PROTOCOL_VERSION,
  createDecoder,
  createEncoder,
  sourceFnRef,
  sourceHash,
} from '@clusterpool/protocol'
import test, { type ExecutionContext } from 'ava'
import WebSocket from 'ws'

import { startCluster } from './helpers/cluster.js'
import { waitFor } from './helpers/processes.js'

const MAX_PAYLOAD = 256 * 1024

let cluster: LocalCluster
let witness: ClusterExecutor
let witnessCalls = 0

test.before(async () => {
  cluster = await startCluster({
    workers: 1,
    procs: 1,
    coordinator: { maxPayload: MAX_PAYLOAD },
  })
  witness = await cluster.connect({ name: 'witness' })
})

test.after.always(async () => {
  await witness?.shutdown()
  await cluster?.close()
})

/** The witness client still gets results from the cluster. */
async function witnessWorks(t: ExecutionContext): Promise<void> {
  const n = ++witnessCalls
  t.is(await witness.submit((x: number) => x * 2, n), n * 2, 'the other client keeps working')
}

// ─── a raw WebSocket peer ─────────────────────────────────────────────────────────────────────

interface RawPeer {
  ws: WebSocket
  /** Every message the coordinator sent, decoded. */
  received: { kind: string; [key: string]: unknown }[]
  closed: Promise<{ code: number; reason: string }>
  sendMessages(messages: unknown[]): void
}

/**
 * Opens a WebSocket to the cluster with the right token (or `token` to `url`), without speaking
 * the protocol yet.
 */
async function rawPeer(
  t: ExecutionContext,
  { url = cluster.url, token = cluster.token }: { url?: string; token?: string } = {},
): Promise<RawPeer> {
  const ws = new WebSocket(url, { headers: { authorization: `Bearer ${token}` } })
  t.teardown(() => ws.terminate())
  const decoder = createDecoder()
  const encoder = createEncoder()
  const received: RawPeer['received'] = []
  ws.on('message', (data: Buffer) => {
    received.push(...(decoder.decode(data) as RawPeer['received']))
  })
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })),
  )
  await once(ws, 'open')
  return {
    ws,
    received,
    closed,
    sendMessages: (messages) => ws.send(encoder.encode(messages), { binary: true }),
  }
}

/** A raw peer that has said a valid client hello and been welcomed. */
async function welcomedPeer(t: ExecutionContext): Promise<RawPeer> {
  const peer = await rawPeer(t)
  peer.sendMessages([{ kind: 'hello', version: PROTOCOL_VERSION, role: 'client', name: 'raw' }])
  await waitFor(() => peer.received.length > 0, 'the welcome')
  t.is(peer.received[0]?.kind, 'welcome')
  return peer
}

/** A valid worker hello for a raw peer. */
function workerHello(name: string): Record<string, unknown> {
  return {
    kind: 'hello',
    version: PROTOCOL_VERSION,
    role: 'worker',
    name,
    host: 'h',
    pid: 1,
    procs: 1,
    resources: {},
    memoryBytes: 1,
    versions: { node: '99', clusterpool: '9.9.9' },
  }
}

/** Upgrades with `headers`; returns the HTTP status the coordinator answered (101 if it upgraded). */
async function upgradeStatus(headers: Record<string, string>, url = cluster.url): Promise<number> {
  const ws = new WebSocket(url, { headers })
  ws.on('error', () => {})
  try {
    const [, res] = (await Promise.race([
      once(ws, 'unexpected-response'),
      once(ws, 'open').then(() => [undefined, { statusCode: 101 }]),
    ])) as [unknown, { statusCode: number }]
    return res.statusCode
  } finally {
    ws.terminate()
  }
}

// ─── tokens ───────────────────────────────────────────────────────────────────────────────────

test.serial('a connection without a token is refused with HTTP 401', async (t) => {
  t.is(await upgradeStatus({}), 401)
  const error = await t.throwsAsync(ClusterExecutor.connect(cluster.url), {
    instanceOf: AuthError,
  })
  t.is(error.code, 'CP_ERR_AUTH')
  t.regex(error.message, /401/)
  await witnessWorks(t)
})

test.serial('a wrong token is refused with HTTP 401 and AuthError', async (t) => {
  t.is(await upgradeStatus({ authorization: 'Bearer not-the-token-at-all' }), 401)
  t.is(await upgradeStatus({ authorization: `Bearer ${cluster.token}x` }), 401)
  t.is(await upgradeStatus({ authorization: `Basic ${cluster.token}` }), 401)
  await t.throwsAsync(ClusterExecutor.connect(cluster.url, { token: 'wrong-token-123' }), {
    instanceOf: AuthError,
  })
  // A token in the URL query (for browsers) is checked the same way.
  t.is(await upgradeStatus({}, `${cluster.url}/?token=wrong-token-123`), 401)
  t.is(await upgradeStatus({}, `${cluster.url}/?token=${cluster.token}`), 101)
  t.is(await upgradeStatus({ authorization: `Bearer ${cluster.token}` }), 101)
  await witnessWorks(t)
})

// ─── bad frames ───────────────────────────────────────────────────────────────────────────────

test.serial('garbage bytes after a valid hello close only that connection (4400)', async (t) => {
  const clientsBefore = cluster.coordinator.status().coordinator.clients
  const peer = await welcomedPeer(t)
  t.is(cluster.coordinator.status().coordinator.clients, clientsBefore + 1)
  peer.ws.send(Buffer.from([0xc1, 0xff, 0x00, 0x13, 0x37]), { binary: true })
  const { code, reason } = await peer.closed
  t.is(code, CloseCode.PROTOCOL)
  t.regex(reason, /msgpack|frame/)
  await waitFor(
    () => cluster.coordinator.status().coordinator.clients === clientsBefore,
    'the session to be dropped',
  )
  await witnessWorks(t)
})

test.serial('a text frame closes the connection with 4400', async (t) => {
  const peer = await welcomedPeer(t)
  peer.ws.send('{"kind":"submit"}')
  t.is((await peer.closed).code, CloseCode.PROTOCOL)
  await witnessWorks(t)
  // Also as the very first frame.
  const early = await rawPeer(t)
  early.ws.send('hello?')
  t.is((await early.closed).code, CloseCode.PROTOCOL)
  await witnessWorks(t)
})

test.serial('an unknown message kind closes the connection with 4400', async (t) => {
  const peer = await welcomedPeer(t)
  peer.sendMessages([{ kind: 'launch-missiles', ids: [1] }])
  const { code, reason } = await peer.closed
  t.is(code, CloseCode.PROTOCOL)
  t.regex(reason, /unknown kind/)
  await witnessWorks(t)
})

test.serial('a message of the wrong direction or with a mistyped field: 4400', async (t) => {
  const workerKind = await welcomedPeer(t)
  workerKind.sendMessages([
    { kind: 'heartbeat', running: 0, queued: 0, cpu: 0, memoryRss: 0, heldBytes: 0 },
  ])
  const first = await workerKind.closed
  t.is(first.code, CloseCode.PROTOCOL)
  t.regex(first.reason, /heartbeat/)

  const mistyped = await welcomedPeer(t)
  mistyped.sendMessages([{ kind: 'submit', tasks: 'not a list' }])
  const second = await mistyped.closed
  t.is(second.code, CloseCode.PROTOCOL)
  t.regex(second.reason, /tasks/)

  const twice = await welcomedPeer(t)
  twice.sendMessages([{ kind: 'hello', version: PROTOCOL_VERSION, role: 'client' }])
  t.is((await twice.closed).code, CloseCode.PROTOCOL)

  const noHello = await rawPeer(t)
  noHello.sendMessages([{ kind: 'ping', seq: 1 }])
  const third = await noHello.closed
  t.is(third.code, CloseCode.PROTOCOL)
  t.is(noHello.received[0]?.kind, 'refuse')
  await witnessWorks(t)
})

test.serial('a frame over maxPayload is closed with 1009', async (t) => {
  const peer = await welcomedPeer(t)
  peer.ws.send(Buffer.alloc(MAX_PAYLOAD + 1024, 0x90), { binary: true })
  const { code } = await peer.closed
  t.is(code, CloseCode.MESSAGE_TOO_BIG)
  await witnessWorks(t)
  // Before the hello, too.
  const early = await rawPeer(t)
  early.ws.send(Buffer.alloc(MAX_PAYLOAD + 1024), { binary: true })
  t.is((await early.closed).code, CloseCode.MESSAGE_TOO_BIG)
  await witnessWorks(t)
})

test.serial('arguments over maxPayload fail only their future, on the client', async (t) => {
  const big = witness.submit((b: Uint8Array) => b.length, new Uint8Array(MAX_PAYLOAD + 1))
  const error = await t.throwsAsync(big, { instanceOf: PayloadTooLargeError })
  t.is(error.code, 'CP_ERR_PAYLOAD_TOO_LARGE')
  t.regex(error.message, /maxPayload/)
  await witnessWorks(t)
})

test.serial(
  'a result over maxPayload fails only its own task; the worker stays connected',
  async (t) => {
    const ids = (): string[] => cluster.coordinator.status().workers.map((w) => w.id)
    const before = ids()
    const big = witness.submit((n: number) => 'y'.repeat(n), MAX_PAYLOAD + 1)
    const error = await t.throwsAsync(big.result(30_000), { instanceOf: PayloadTooLargeError })
    t.regex(error.message, /result is \d+ bytes encoded.*maxPayload/)
    // Neither the worker's connection nor its process pool was lost over it.
    t.deepEqual(ids(), before)
    await witnessWorks(t)
    const [a, b] = await Promise.all([
      witness.submit((n: number) => 'y'.repeat(n), MAX_PAYLOAD / 2),
      witness.submit((x: number) => x + 1, 1),
    ])
    t.is(a.length, MAX_PAYLOAD / 2, 'a result under the limit, held on the worker, is fetched')
    t.is(b, 2)
    t.deepEqual(ids(), before)
  },
)

test.serial(
  'a value over the client’s own maxPayload fails its future; the client stays connected',
  async (t) => {
    const small = await cluster.connect({ name: 'small-frames', maxPayload: 100_000 })
    t.teardown(() => small.shutdown())
    let disconnects = 0
    small.on('disconnected', () => disconnects++)
    const make = (n: number): Uint8Array => new Uint8Array(n).fill(7)
    const big = small.submit(make, 150_000)
    const error = await t.throwsAsync(big.result(30_000), { instanceOf: PayloadTooLargeError })
    t.regex(
      error.message,
      /over what this client takes in a frame \(its maxPayload of 100000 bytes/,
    )
    // Under its limit, held on the worker or sent inline, values come back; so do many together,
    // in frames it takes.
    t.is((await small.submit(make, 90_000)).length, 90_000)
    const many = await Promise.all(Array.from({ length: 8 }, () => small.submit(make, 40_000)))
    t.deepEqual(
      many.map((v) => v.length),
      Array<number>(8).fill(40_000),
    )
    t.is(disconnects, 0, 'no frame over its limit ever reached it')
    await witnessWorks(t)
  },
)

test.serial(
  'bursts bigger than maxPayload together travel in frames the coordinator takes',
  async (t) => {
    // 400 submits of 1 KB from the client, and 8 results of 40 KB from the worker, each burst
    // over the coordinator's 256 KiB in one frame.
    const args = Array.from({ length: 400 }, (_, i) => new Uint8Array(1024).fill(i % 256))
    const sums = await Promise.all(
      args.map((a) => witness.submit((b: Uint8Array) => b[0]! + b.length, a)),
    )
    t.deepEqual(
      sums,
      args.map((a) => a[0]! + 1024),
    )
    const make = (n: number): Uint8Array => new Uint8Array(n).fill(1)
    const results = await Promise.all(Array.from({ length: 8 }, () => witness.submit(make, 40_000)))
    t.true(results.every((r) => r.length === 40_000))
    t.is(cluster.coordinator.status().workers.length, 1)
    await witnessWorks(t)
  },
)

test.serial('a hello of another protocol version is refused and closed with 4409', async (t) => {
  const peer = await rawPeer(t)
  peer.sendMessages([{ kind: 'hello', version: 999, role: 'client', name: 'future-client' }])
  const { code } = await peer.closed
  t.is(code, CloseCode.VERSION_MISMATCH)
  t.is(peer.received.length, 1)
  t.like(peer.received[0], { kind: 'refuse', code: 'CP_ERR_VERSION_MISMATCH' })
  t.regex(String(peer.received[0]?.message), /version/)
  await witnessWorks(t)
  // A worker of another version, likewise.
  const worker = await rawPeer(t)
  worker.sendMessages([{ ...workerHello('future-worker'), version: 999 }])
  t.is((await worker.closed).code, CloseCode.VERSION_MISMATCH)
  t.like(worker.received[0], { kind: 'refuse', code: 'CP_ERR_VERSION_MISMATCH' })
  t.is(cluster.coordinator.core.workerCount, 1)
  await witnessWorks(t)
})

// ─── binding and the worker CLI ───────────────────────────────────────────────────────────────

test('a non-loopback host without a token is refused unless insecure', async (t) => {
  const error = await t.throwsAsync(
    Coordinator.start({ host: '0.0.0.0', port: 0, logLevel: 'silent' }),
    { instanceOf: InvalidOptionError },
  )
  t.regex(error.message, /options\.host/)
  t.regex(error.message, /token/)
  t.regex(error.message, /insecure/)
  const withToken = await Coordinator.start({
    host: '0.0.0.0',
    port: 0,
    token: 'a-long-enough-token',
    logLevel: 'silent',
  })
  await withToken.close()
  const insecure = await Coordinator.start({
    host: '0.0.0.0',
    port: 0,
    insecure: true,
    logLevel: 'silent',
  })
  await insecure.close()
  t.pass()
})

/** Runs `clusterpool worker URL --token TOKEN` until it exits (it is killed after 30 s). */
async function runWorkerCli(
  url: string,
  token: string,
): Promise<{ exitCode: number | null; output: string }> {
  const cli = fileURLToPath(import.meta.resolve('clusterpool/cli'))
  const child = spawn(process.execPath, [cli, 'worker', url, '--procs', '1', '--token', token], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, CLUSTERPOOL_TOKEN: '' },
  })
  let output = ''
  child.stdout.on('data', (d: Buffer) => (output += d.toString()))
  child.stderr.on('data', (d: Buffer) => (output += d.toString()))
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000)
  const [exitCode] = (await once(child, 'exit')) as [number | null]
  clearTimeout(timer)
  return { exitCode, output }
}

test('the worker CLI exits non-zero with a clear message on a wrong token', async (t) => {
  const { exitCode, output } = await runWorkerCli(cluster.url, 'wrong-token-123')
  t.not(exitCode, 0)
  t.not(exitCode, null, 'it exited on its own')
  t.regex(output, /refused/)
  t.regex(output, /token/)
  await witnessWorks(t)
})

// ─── role-scoped tokens ───────────────────────────────────────────────────────────────────────

const WORKER_TOKEN = 'worker-only-token-0123'
const CLIENT_TOKEN = 'client-only-token-4567'

test('role tokens: a worker presenting the client token is refused, its own admits it', async (t) => {
  const roles = await startCluster({
    workers: 1, // registered with the worker token, or startCluster would have timed out
    coordinator: { workerToken: WORKER_TOKEN, clientToken: CLIENT_TOKEN },
  })
  t.teardown(() => roles.close())
  t.is(roles.coordinator.core.workerCount, 1)

  const impostor = await rawPeer(t, { url: roles.url, token: CLIENT_TOKEN })
  impostor.sendMessages([workerHello('impostor')])
  t.is((await impostor.closed).code, CloseCode.AUTH)
  t.like(impostor.received[0], { kind: 'refuse', code: 'CP_ERR_AUTH' })
  t.regex(String(impostor.received[0]?.message), /not a worker token/)
  t.is(roles.coordinator.core.workerCount, 1, 'the impostor never registered')

  const { exitCode, output } = await runWorkerCli(roles.url, CLIENT_TOKEN)
  t.not(exitCode, 0)
  t.not(exitCode, null, 'it exited on its own')
  t.regex(output, /refused/)
  t.regex(output, /token/)

  // The worker token admits a worker (the raw peer is welcomed, then leaves).
  const worker = await rawPeer(t, { url: roles.url, token: WORKER_TOKEN })
  worker.sendMessages([workerHello('raw-worker')])
  await waitFor(() => worker.received.length > 0, 'the welcome')
  t.is(worker.received[0]?.kind, 'welcome')
  worker.ws.close()
})

test('role tokens: a client presenting the worker token is refused, its own works', async (t) => {
  const roles = await startCluster({
    workers: 1,
    coordinator: { workerToken: WORKER_TOKEN, clientToken: CLIENT_TOKEN },
  })
  t.teardown(() => roles.close())

  const refused = await t.throwsAsync(ClusterExecutor.connect(roles.url, { token: WORKER_TOKEN }), {
    instanceOf: AuthError,
  })
  t.is(refused.code, 'CP_ERR_AUTH')
  t.regex(refused.message, /not a client token/)
  const impostor = await rawPeer(t, { url: roles.url, token: WORKER_TOKEN })
  impostor.sendMessages([{ kind: 'hello', version: PROTOCOL_VERSION, role: 'client' }])
  t.is((await impostor.closed).code, CloseCode.AUTH)
  t.like(impostor.received[0], { kind: 'refuse', code: 'CP_ERR_AUTH' })

  const client = await ClusterExecutor.connect(roles.url, { token: CLIENT_TOKEN })
  t.teardown(() => client.shutdown())
  t.is(await client.submit((x: number) => x + 1, 41), 42)

  // With both role tokens set, the shared token admits neither role over WebSocket…
  t.is(await upgradeStatus({ authorization: `Bearer ${roles.token}` }, roles.url), 401)
  // …and HTTP (status, metrics, dashboard) takes the client token and the shared one, never the worker's.
  const status = (token: string) =>
    fetch(`${roles.httpUrl}/api/status`, { headers: { authorization: `Bearer ${token}` } })
  t.is((await status(CLIENT_TOKEN)).status, 200)
  t.is((await status(roles.token)).status, 200)
  t.is((await status(WORKER_TOKEN)).status, 401)
})

test('role tokens: the shared token admits both roles when no role token is set', async (t) => {
  const shared = await startCluster({ workers: 1 }) // its worker presented the shared token
  t.teardown(() => shared.close())
  t.is(shared.coordinator.core.workerCount, 1)
  const client = await ClusterExecutor.connect(shared.url, { token: shared.token })
  t.teardown(() => client.shutdown())
  t.is(await client.submit((x: number) => x * 3, 5), 15)
  const worker = await rawPeer(t, { url: shared.url, token: shared.token })
  worker.sendMessages([workerHello('raw-worker')])
  await waitFor(() => worker.received.length > 0, 'the welcome')
  t.is(worker.received[0]?.kind, 'welcome')
  worker.ws.close()
})

test('role tokens are validated: each at least 8 characters, never one secret for both', async (t) => {
  const start = (options: Record<string, unknown>) =>
    Coordinator.start({ port: 0, logLevel: 'silent', ...options })
  await t.throwsAsync(start({ workerToken: 'short' }), {
    instanceOf: InvalidOptionError,
    message: /options\.workerToken must be a string of at least 8 characters/,
  })
  await t.throwsAsync(start({ workerToken: CLIENT_TOKEN, clientToken: CLIENT_TOKEN }), {
    instanceOf: InvalidOptionError,
    message: /same secret/,
  })
  await t.throwsAsync(start({ token: CLIENT_TOKEN, clientToken: CLIENT_TOKEN }), {
    instanceOf: InvalidOptionError,
    message: /same secret/,
  })
  const half = await t.throwsAsync(start({ host: '0.0.0.0', workerToken: WORKER_TOKEN }), {
    instanceOf: InvalidOptionError,
  })
  t.regex(half.message, /no token is set for clients/)
  const both = await start({
    host: '0.0.0.0',
    workerToken: WORKER_TOKEN,
    clientToken: CLIENT_TOKEN,
  })
  await both.close()
})

// ─── status endpoints ─────────────────────────────────────────────────────────────────────────

test.serial('HTTP: /health is open; /api/status and /metrics need the token', async (t) => {
  const base = cluster.httpUrl
  const bearer = { authorization: `Bearer ${cluster.token}` }
  const health = await fetch(`${base}/health`)
  t.is(health.status, 200)
  for (const path of ['/api/status', '/metrics']) {
    t.is((await fetch(`${base}${path}`)).status, 401, `${path} without a token`)
    const wrong = await fetch(`${base}${path}`, { headers: { authorization: 'Bearer nope-nope' } })
    t.is(wrong.status, 401, `${path} with a wrong token`)
    t.is((await fetch(`${base}${path}`, { headers: bearer })).status, 200, `${path} with it`)
  }

  await witnessWorks(t)
  const status = (await (await fetch(`${base}/api/status`, { headers: bearer })).json()) as {
    workers: Record<string, unknown>[]
    tasks: Record<string, number>
    tasksPerSecond: number
  }
  t.is(status.workers.length, 1)
  for (const key of ['name', 'host', 'procs', 'running', 'queued', 'done', 'failed']) {
    t.true(key in status.workers[0]!, `workers[0].${key}`)
  }
  t.is(typeof status.workers[0]!.lastHeartbeatMsAgo, 'number')
  t.true((status.workers[0]!.done as number) > 0)
  for (const state of ['queued', 'processing', 'memory', 'erred', 'cancelled']) {
    t.is(typeof status.tasks[state], 'number', `tasks.${state}`)
  }
  t.is(typeof status.tasksPerSecond, 'number')

  const metrics = await (await fetch(`${base}/metrics`, { headers: bearer })).text()
  const submitted = /^clusterpool_tasks_submitted_total (\d+)/m.exec(metrics)
  t.truthy(submitted, 'clusterpool_tasks_submitted_total is exported')
  t.true(Number(submitted![1]) >= witnessCalls)
  t.regex(metrics, /^clusterpool_protocol_errors_total/m)
  t.regex(metrics, /^clusterpool_workers 1$/m)
  const durations = /^clusterpool_task_duration_seconds_count (\d+)/m.exec(metrics)
  t.truthy(durations, 'clusterpool_task_duration_seconds is exported')
  t.true(Number(durations![1]) >= witnessCalls, 'every finished task is observed')
  // Frames are counted as they arrive: the witness tasks came from a client and their results
  // from the worker, so neither count can be zero.
  for (const peer of ['client', 'worker']) {
    const frames = new RegExp(`^clusterpool_frames_received_total\\{peer="${peer}"\\} (\\d+)`, 'm')
    const m = frames.exec(metrics)
    t.truthy(m, `clusterpool_frames_received_total{peer="${peer}"} is exported`)
    t.true(Number(m![1]) > 0, `frames from ${peer}s are counted`)
  }
})

// ─── lying and hostile peers (issue 15) ───────────────────────────────────────────────────────

/** A raw peer welcomed as a worker named `name`, paused at once (it gets no tasks of its own). */
async function rogueWorker(t: ExecutionContext, name = 'rogue'): Promise<RawPeer> {
  const peer = await rawPeer(t)
  peer.sendMessages([
    {
      kind: 'hello',
      version: PROTOCOL_VERSION,
      role: 'worker',
      name,
      host: 'rogue-host',
      pid: 1,
      procs: 1,
      resources: {},
      memoryBytes: 1 << 30,
      versions: { node: process.versions.node, clusterpool: '0.1.0' },
    },
  ])
  await waitFor(() => peer.received.some((m) => m.kind === 'welcome'), 'the worker welcome')
  peer.sendMessages([{ kind: 'leaving', returned: [] }])
  return peer
}

/** A client of its own, shut down when the test ends. */
async function honestClient(t: ExecutionContext): Promise<ClusterExecutor> {
  const client = await cluster.connect({ name: 'honest' })
  t.teardown(() => client.shutdown())
  return client
}

test.serial('15.1: a result from a worker never assigned the task is dropped', async (t) => {
  const honest = await honestClient(t)
  const future = honest.submit(async () => {
    await new Promise((resolve) => setTimeout(resolve, 300))
    return 'REAL-VALUE'
  })
  const key = `${honest.clientId}:1`
  const core = cluster.coordinator.core
  await waitFor(() => core.scheduler.task(key)?.state === 'processing', 'the task to run')
  const rogue = await rogueWorker(t)
  const value = createEncoder().encode('FAKE-VALUE')
  rogue.sendMessages([{ kind: 'results', items: [{ key, value, size: 11, durationMs: 1 }] }])
  t.is(await future, 'REAL-VALUE')
  t.is(core.workerCount, 2, 'one lie is logged and dropped, not a disconnect')
  // A stream of them is a liar: closed with 4400, and the coordinator goes on.
  const items = Array.from({ length: 11 }, (_, i) => ({
    key: `c0:${i}`,
    value,
    size: 11,
    durationMs: 1,
  }))
  rogue.sendMessages([{ kind: 'results', items }])
  t.is((await rogue.closed).code, CloseCode.PROTOCOL)
  await waitFor(() => core.workerCount === 1, 'the rogue to leave')
  await witnessWorks(t)
})

test.serial('15.2: a held-size report from a stranger records no replica', async (t) => {
  const honest = await honestClient(t)
  // Over holdResultsOverBytes (64 KiB): the value stays on the real worker.
  const future = honest.submit(async () => {
    await new Promise((resolve) => setTimeout(resolve, 300))
    return 'r'.repeat(100_000)
  })
  const key = `${honest.clientId}:1`
  const core = cluster.coordinator.core
  await waitFor(() => core.scheduler.task(key)?.state === 'processing', 'the task to run')
  const rogue = await rogueWorker(t)
  // The lie before the real result, and again after it: neither counts.
  rogue.sendMessages([{ kind: 'results', items: [{ key, size: 100_000, durationMs: 1 }] }])
  await waitFor(() => core.scheduler.task(key)?.state === 'memory', 'the real result')
  rogue.sendMessages([{ kind: 'results', items: [{ key, size: 100_000, durationMs: 1 }] }])
  await new Promise((resolve) => setTimeout(resolve, 50)) // for the second report to arrive
  const rogueId = core.status().workers.find((w) => w.name === 'rogue')?.id
  t.truthy(rogueId)
  t.false(core.scheduler.whoHas(key).includes(rogueId!), 'no replica on the rogue')
  t.is(await future, 'r'.repeat(100_000))
  rogue.ws.terminate()
  await waitFor(() => core.workerCount === 1, 'the rogue to leave')
  await witnessWorks(t)
})

const NO_ARGS = createEncoder().encode([])

test.serial(
  '15.3: a source that does not match its hash is refused; honest tasks run theirs',
  async (t) => {
    const double = (x: number): number => x * 2
    const { hash } = sourceFnRef(double)
    const attacker = await welcomedPeer(t)
    attacker.sendMessages([
      {
        kind: 'submit',
        tasks: [
          {
            id: 1,
            fn: { kind: 'source', hash, source: '(x) => -777', name: 'double' },
            args: NO_ARGS,
          },
        ],
      },
    ])
    await waitFor(() => attacker.received.some((m) => m.kind === 'errors'), 'the refusal')
    const errors = attacker.received.find((m) => m.kind === 'errors') as unknown as {
      items: { id: number; error: { code: string; message: string } }[]
    }
    t.is(errors.items[0]?.id, 1)
    t.is(errors.items[0]?.error.code, 'CP_ERR_INVALID_TASK')
    t.regex(errors.items[0]!.error.message, /does not match its hash/)
    const honest = await honestClient(t)
    t.is(await honest.submit(double, 21), 42)
    t.is(await honest.submit(double, 5), 10, 'later tasks name the hash alone, and still run it')
    await witnessWorks(t)
  },
)

test.serial(
  '15.4: 300 distinct 200 kB sources, refused, then disconnect: the heap comes back',
  async (t) => {
    const core = cluster.coordinator.core
    globalThis.gc?.()
    const before = process.memoryUsage().heapUsed
    const attacker = await welcomedPeer(t)
    const filler = 'x'.repeat(200_000)
    for (let i = 0; i < 300; i++) {
      const source = `() => ${i} // ${filler}`
      attacker.sendMessages([
        {
          kind: 'submit',
          tasks: [
            {
              id: i + 1,
              fn: { kind: 'source', hash: sourceHash(source), source, name: `f${i}` },
              args: NO_ARGS,
              deps: [999_999],
            },
          ],
        },
      ])
    }
    const errorCount = (): number =>
      attacker.received.reduce(
        (n, m) => n + (m.kind === 'errors' ? (m.items as unknown[]).length : 0),
        0,
      )
    await waitFor(() => errorCount() === 300, 'every submit to be refused')
    attacker.ws.close()
    await attacker.closed
    await waitFor(() => core.sources.bytes <= 16 * 2 ** 20, 'the sources to be released')
    globalThis.gc?.()
    const grown = process.memoryUsage().heapUsed - before
    t.true(grown < 40 * 2 ** 20, `the heap grew ${Math.round(grown / 2 ** 20)} MiB`)
    await witnessWorks(t)
  },
)

/** A raw client whose task 1 finished with a 60 kB value (inline: under holdResultsOverBytes). */
async function peerWith60kB(t: ExecutionContext): Promise<RawPeer> {
  const peer = await welcomedPeer(t)
  const source = "() => 'v'.repeat(60_000)"
  peer.sendMessages([
    {
      kind: 'submit',
      tasks: [
        {
          id: 1,
          fn: { kind: 'source', hash: sourceHash(source), source, name: 'v' },
          args: NO_ARGS,
        },
      ],
    },
  ])
  await waitFor(() => resultItems(peer).length === 1, 'task 1 to finish')
  return peer
}

function resultItems(peer: RawPeer): { id: number; value?: Uint8Array }[] {
  return peer.received.flatMap((m) =>
    m.kind === 'results' ? (m.items as { id: number; value?: Uint8Array }[]) : [],
  )
}

test.serial(
  '15.8: gather of one 60 kB result 3000 and 75,000 times sends it once each',
  async (t) => {
    const peer = await peerWith60kB(t)
    const rssBefore = process.memoryUsage().rss
    const started = performance.now()
    peer.sendMessages([{ kind: 'gather', ids: Array.from({ length: 3000 }, () => 1) }])
    peer.sendMessages([{ kind: 'gather', ids: Array.from({ length: 75_000 }, () => 1) }])
    // The same as 3000 messages of one frame.
    peer.sendMessages(Array.from({ length: 3000 }, () => ({ kind: 'gather', ids: [1] })))
    peer.sendMessages([{ kind: 'ping', seq: 7 }])
    await waitFor(() => peer.received.some((m) => m.kind === 'pong'), 'the pong')
    t.is(resultItems(peer).length, 4, 'the result, then once per gather frame')
    t.true(resultItems(peer)[2]!.value!.byteLength > 60_000)
    t.true(performance.now() - started < 2000)
    const grown = process.memoryUsage().rss - rssBefore
    t.true(grown < 100 * 2 ** 20, `RSS grew ${Math.round(grown / 2 ** 20)} MiB`)
    t.is(peer.ws.readyState, WebSocket.OPEN, 'the peer is still connected')
    await witnessWorks(t)
  },
)

test.serial('15.9: a dependency listed 1000 times travels once', async (t) => {
  const peer = await peerWith60kB(t)
  const source = '() => "ran"'
  const rssBefore = process.memoryUsage().rss
  peer.sendMessages([
    {
      kind: 'submit',
      tasks: [
        {
          id: 2,
          fn: { kind: 'source', hash: sourceHash(source), source, name: 'ran' },
          args: NO_ARGS,
          deps: Array.from({ length: 1000 }, () => 1),
        },
      ],
    },
  ])
  await waitFor(() => resultItems(peer).some((r) => r.id === 2), 'task 2 to finish')
  t.deepEqual(createDecoder().decode(resultItems(peer).find((r) => r.id === 2)!.value!), 'ran')
  const grown = process.memoryUsage().rss - rssBefore
  t.true(grown < 40 * 2 ** 20, `RSS grew ${Math.round(grown / 2 ** 20)} MiB`)
  await witnessWorks(t)
})

test.serial('15.5: tasks under 300 long function keys leave /api/status under 1 MB', async (t) => {
  const peer = await welcomedPeer(t)
  const long = 'f'.repeat(30_000)
  const n = 300
  for (let i = 0; i < n; i += 5)
    peer.sendMessages([
      {
        kind: 'submit',
        tasks: Array.from({ length: 5 }, (_, j) => ({
          id: i + j + 1,
          fn: { kind: 'module', url: `file:///${long}${i + j}.js`, exportName: 'f' },
          args: NO_ARGS,
        })),
      },
    ])
  const ended = (): number =>
    peer.received.reduce(
      (k, m) =>
        k + (m.kind === 'errors' || m.kind === 'results' ? (m.items as unknown[]).length : 0),
      0,
    )
  await waitFor(() => ended() === n, 'every task to end', 20_000)
  const started = performance.now()
  const res = await fetch(`${cluster.httpUrl}/api/status`, {
    headers: { authorization: `Bearer ${cluster.token}` },
  })
  const body = await res.text()
  const tookMs = performance.now() - started
  t.true(body.length < 1_000_000, `${body.length} bytes`)
  t.true(tookMs < 250, `${Math.round(tookMs)} ms`)
  const status = JSON.parse(body) as { functions: unknown[]; functionsTotal: number }
  t.true(status.functions.length <= 100)
  t.true(status.functionsTotal >= n)
  await witnessWorks(t)
})

test.serial(
  '15.6: a restriction to a worker named "alpha,beta" shares nothing with ["alpha","beta"]',
  async (t) => {
    const honest = await honestClient(t)
    // Honest tasks wait for workers named alpha or beta; none is connected yet.
    const futures = [1, 2, 3].map((x) =>
      honest.submit(
        task((n: number) => n * 10, { workers: ['alpha', 'beta'] }),
        x,
      ),
    )
    const attacker = await welcomedPeer(t)
    attacker.sendMessages([
      {
        kind: 'submit',
        tasks: [
          {
            id: 1,
            fn: { kind: 'module', url: 'file:///nothing.js', exportName: 'f' },
            args: NO_ARGS,
            opts: { workers: ['alpha,beta'] },
          },
        ],
      },
    ])
    const rogue = await rogueWorker(t, 'alpha,beta')
    const assignedTo = (peer: RawPeer): string[] =>
      peer.received.flatMap((m) =>
        m.kind === 'assign' ? (m.tasks as { key: string }[]).map((x) => x.key) : [],
      )
    await waitFor(() => assignedTo(rogue).length > 0, 'the attacker’s own task on its worker')
    await new Promise((resolve) => setTimeout(resolve, 300))
    t.deepEqual(
      assignedTo(rogue).filter((k) => k.startsWith(`${honest.clientId}:`)),
      [],
      'no honest task went to the worker named "alpha,beta"',
    )
    // A worker really named alpha takes them.
    cluster.addWorker({ name: 'alpha' })
    t.deepEqual(await Promise.all(futures), [10, 20, 30])
    await witnessWorks(t)
  },
)

test.serial(
  '15.7: a BigInt extension filling a frame is refused at once, without a stall',
  async (t) => {
    const peer = await welcomedPeer(t)
    // [{ kind: 'ping', seq: <BigInt extension 0x42 of 200 kB> }], written byte by byte.
    const payload = Buffer.alloc(200_000, 0x7f)
    const header = Buffer.from([
      0x91,
      0x82,
      0xa4,
      ...Buffer.from('kind'),
      0xa4,
      ...Buffer.from('ping'),
    ])
    const seq = Buffer.from([0xa3, ...Buffer.from('seq'), 0xc9, 0, 0, 0, 0, 0x42])
    seq.writeUInt32BE(payload.length, 5)
    const lag = monitorEventLoopDelay({ resolution: 5 })
    lag.enable()
    peer.ws.send(Buffer.concat([header, seq, payload]), { binary: true })
    const closed = await peer.closed
    await new Promise((resolve) => setTimeout(resolve, 50))
    lag.disable()
    t.is(closed.code, CloseCode.PROTOCOL)
    t.true(closed.reason.length < 200, 'the reason does not print the value')
    t.true(lag.max / 1e6 < 250, `worst event-loop stall ${Math.round(lag.max / 1e6)} ms`)
    await witnessWorks(t)
  },
)

test('a worker whose connections drop right after the welcome backs off instead of spinning', async (t) => {
  const { WebSocketServer } = await import('ws')
  const { WorkerDaemon } = await import('clusterpool')
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0 })
  await once(server, 'listening')
  t.teardown(() => server.close())
  const encoder = createEncoder()
  let connections = 0
  server.on('connection', (ws) => {
    connections++
    ws.once('message', () => {
      const welcome = {
        kind: 'welcome',
        version: PROTOCOL_VERSION,
        workerId: `w${connections}`,
        heartbeatIntervalMs: 1000,
        maxPayload: 1 << 20,
      }
      // Welcomed, then closed at once, as a coordinator refusing each of its frames would.
      ws.send(encoder.encode([welcome]), { binary: true }, () => ws.close(1011, 'gone again'))
    })
  })
  const { port } = server.address() as { port: number }
  const daemon = new WorkerDaemon({
    coordinatorUrl: `ws://127.0.0.1:${port}`,
    procs: 1,
    warmUp: 'lazy',
    reconnectInitialDelayMs: 50,
    reconnectMaxDelayMs: 400,
  })
  const running = daemon.run()
  await new Promise((resolve) => setTimeout(resolve, 3000))
  // Backing off (50, 100, 200, 400, 400… ms, less up to half) makes fewer than 25 in 3 s.
  t.true(connections >= 3, `it kept trying: ${connections}`)
  t.true(connections < 25, `${connections} connections in 3 s`)
  void daemon.drain()
  server.close()
  await running
})
