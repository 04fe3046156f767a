// The security baseline and bad peers (issue 3 §5, §7, §8, §10): tokens at the HTTP upgrade,
// frames that break the protocol, oversize frames, other protocol versions, binding rules, the
// worker CLI's refusal, and the status endpoints. Every bad peer is refused while another
// client ("the witness") keeps working on the same coordinator.
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'

import {
  AuthError,
  ClusterExecutor,
  InvalidOptionError,
  PayloadTooLargeError,
  Coordinator,
  type LocalCluster,
} from 'clusterpool'
import { CloseCode, PROTOCOL_VERSION, createDecoder, createEncoder } from '@clusterpool/protocol'
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
})
