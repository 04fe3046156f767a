// TLS: a coordinator with a certificate serves wss:// and https://; a worker daemon and a
// client that trust its CA connect and run tasks; one that does not trust it is refused.
import { execFileSync, spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { request } from 'node:https'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

import { ClusterExecutor, ConnectionLostError, Coordinator } from 'clusterpool'
import test from 'ava'

const dir = mkdtempSync(join(tmpdir(), 'clusterpool-tls-'))
const token = 'tls-test-token-123'
const certFile = join(dir, 'cert.pem')
execFileSync(
  'openssl',
  [
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '1',
    '-subj',
    '/CN=127.0.0.1',
    '-addext',
    'subjectAltName=IP:127.0.0.1',
    '-keyout',
    join(dir, 'key.pem'),
    '-out',
    certFile,
  ],
  { stdio: 'ignore' },
)
const cert = readFileSync(certFile)

let coordinator: Coordinator
const cli = fileURLToPath(import.meta.resolve('clusterpool/cli'))

test.before(async () => {
  coordinator = await Coordinator.start({
    port: 0,
    token,
    tls: { cert, key: readFileSync(join(dir, 'key.pem')) },
    logLevel: 'silent',
  })
})

test.after.always(async () => {
  await coordinator?.close()
  rmSync(dir, { recursive: true, force: true })
})

test.serial('the coordinator serves wss:// and https://', (t) => {
  t.regex(coordinator.url, /^wss:\/\/127\.0\.0\.1:\d+$/)
  t.regex(coordinator.httpUrl, /^https:\/\//)
})

test.serial('a worker and a client that trust the CA run tasks over wss', async (t) => {
  const worker = spawn(
    process.execPath,
    [
      cli,
      'worker',
      coordinator.url,
      '--procs',
      '1',
      '--ca',
      certFile,
      '--token',
      token,
      '--log-level',
      'warn',
    ],
    {
      stdio: 'ignore',
    },
  )
  try {
    const deadline = Date.now() + 20_000
    while (coordinator.core.workerCount < 1 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50))
    t.is(coordinator.core.workerCount, 1)
    const ex = await ClusterExecutor.connect(coordinator.url, { token, ca: cert })
    t.is(await ex.submit((a: number, b: number) => a * b, 6, 7), 42)
    await ex.shutdown()
  } finally {
    worker.kill('SIGTERM')
    await once(worker, 'exit')
  }
})

test.serial('https status with the CA; a client without it is refused', async (t) => {
  const body = await new Promise<string>((resolve, reject) => {
    const req = request(
      `${coordinator.httpUrl}/api/status`,
      { ca: cert, headers: { authorization: `Bearer ${token}` } },
      (res) => {
        let data = ''
        res.on('data', (c: Buffer) => (data += c.toString()))
        res.on('end', () => resolve(data))
      },
    )
    req.on('error', reject)
    req.end()
  })
  t.truthy((JSON.parse(body) as { workers: unknown[] }).workers)
  const error = await t.throwsAsync(
    ClusterExecutor.connect(coordinator.url, { token, connectTimeoutMs: 5000 }),
  )
  t.true(error instanceof ConnectionLostError)
  t.regex(error.message, /certificate/i)
})
