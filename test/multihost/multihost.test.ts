// Several hosts on one machine: a coordinator and two worker daemons in their own containers on
// a private Docker network, and this process as a client from outside, as on real hosts.
// Faults: a worker host killed outright (kill -9 of its container) and a network partition.
import { execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { fileURLToPath } from 'node:url'

import { ClusterExecutor, task, type CurrentTask } from 'clusterpool'
import test from 'ava'
import {
  GenericContainer,
  Network,
  Wait,
  type StartedNetwork,
  type StartedTestContainer,
} from 'testcontainers'

/** The global inside task processes (see `currentTask` in clusterpool). */
declare const currentTask: () => CurrentTask

import { dockerTests, ownerLabel, removeStaleContainers } from './docker.js'

process.env.TESTCONTAINERS_RYUK_DISABLED = 'true'
const repo = fileURLToPath(new URL('../..', import.meta.url))
const token = randomBytes(12).toString('hex')
const owner = 'multihost'
const image = 'clusterpool:multihost-test'

const { hasDocker, maybe } = dockerTests('multi-host tests')

let network: StartedNetwork
let coordinator: StartedTestContainer
const workers = new Map<string, StartedTestContainer>()
let client: ClusterExecutor
let statusUrl: string

async function startWorker(name: string): Promise<StartedTestContainer> {
  const c = await new GenericContainer(image)
    .withLabels(ownerLabel(owner))
    .withNetwork(network)
    .withHostname(name)
    .withEnvironment({ CLUSTERPOOL_TOKEN: token })
    .withCommand(['worker', 'ws://coordinator:8786', '--procs', '1', '--name', name])
    .withWaitStrategy(Wait.forLogMessage('registered with the coordinator'))
    .start()
  workers.set(name, c)
  return c
}

async function status(): Promise<{ workers: { name: string; host: string; done: number }[] }> {
  const res = await fetch(statusUrl, { headers: { authorization: `Bearer ${token}` } })
  return (await res.json()) as { workers: { name: string; host: string; done: number }[] }
}

async function until(
  what: string,
  check: () => Promise<boolean>,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`)
    await new Promise((r) => setTimeout(r, 200))
  }
}

if (hasDocker) {
  test.before(async () => {
    // Containers a killed earlier run left behind.
    removeStaleContainers(owner)
    execFileSync('bash', ['deploy/base-image.sh'], { cwd: repo, stdio: 'inherit' })
    execFileSync('bash', ['deploy/build-image.sh', image], {
      cwd: repo,
      stdio: ['ignore', 'inherit', 'ignore'],
      env: { ...process.env, BASE: 'clusterpool-node-base:local' },
    })
    network = await new Network().start()
    coordinator = await new GenericContainer(image)
      .withLabels(ownerLabel(owner))
      .withNetwork(network)
      .withNetworkAliases('coordinator')
      .withExposedPorts(8786)
      .withEnvironment({ CLUSTERPOOL_TOKEN: token, CLUSTERPOOL_WORKER_TIMEOUT_MS: '3000' })
      .withCommand(['coordinator', '--host', '0.0.0.0', '--log-level', 'warn'])
      .withWaitStrategy(Wait.forLogMessage('coordinator listening'))
      .start()
    await Promise.all([startWorker('host-a'), startWorker('host-b')])
    const base = `${coordinator.getHost()}:${coordinator.getMappedPort(8786)}`
    statusUrl = `http://${base}/api/status`
    client = await ClusterExecutor.connect(`ws://${base}`, { token })
  })

  test.after.always(async () => {
    await client?.shutdown({ cancelFutures: true }).catch(() => {})
    for (const w of workers.values()) await w.stop({ timeout: 1000 }).catch(() => {})
    await coordinator?.stop({ timeout: 1000 }).catch(() => {})
    await network?.stop().catch(() => {})
  })
}

/** Runs on a worker: which host it ran on. */
const whereAmI = async (i: number): Promise<[number, string]> => {
  const os = await import('node:os')
  return [i, os.hostname()]
}

maybe('tasks from a client outside run on both worker hosts', async (t) => {
  const seen = new Set<string>()
  let i = 0
  for await (const [n, host] of client.map(
    whereAmI,
    Array.from({ length: 400 }, (_, k) => k),
  )) {
    t.is(n, i++)
    seen.add(host)
  }
  t.is(i, 400)
  t.deepEqual([...seen].sort(), ['host-a', 'host-b'])
  const s = await status()
  t.deepEqual(s.workers.map((w) => w.host).sort(), ['host-a', 'host-b'])
})

/** Runs on host-a: submits `n` children that may run only on host-b, and waits for them. */
const parentOnA = async (n: number): Promise<{ parent: string; children: [number, string][] }> => {
  const os = await import('node:os')
  const { task } = await import('clusterpool')
  const where = async (i: number): Promise<[number, string]> => [
    i,
    (await import('node:os')).hostname(),
  ]
  const ex = currentTask().executor
  const kids = Array.from({ length: n }, (_, i) =>
    ex.submit(task(where, { workers: ['host-b'] }), i),
  )
  return { parent: os.hostname(), children: await Promise.all(kids) }
}

maybe('a parent task on one host waits for its children on the other', async (t) => {
  const out = await client.submit(task(parentOnA, { workers: ['host-a'] }), 20).result(60_000)
  t.is(out.parent, 'host-a')
  t.deepEqual(
    out.children,
    Array.from({ length: 20 }, (_, i) => [i, 'host-b']),
  )
})

maybe(
  'a worker host killed outright: every task still finishes with the right value',
  async (t) => {
    const slow = async (i: number): Promise<number> => {
      await new Promise((r) => setTimeout(r, 20))
      return i * i
    }
    const futures = Array.from({ length: 300 }, (_, i) => client.submit(slow, i))
    await until('some tasks are done', async () => futures.filter((f) => f.done()).length >= 30)
    execFileSync('docker', ['kill', '-s', 'KILL', workers.get('host-a')!.getId()])
    const values = await Promise.all(futures)
    t.deepEqual(
      values,
      Array.from({ length: 300 }, (_, i) => i * i),
    )
    await until('the coordinator dropped host-a', async () =>
      (await status()).workers.every((w) => w.host !== 'host-a'),
    )
    const killed = workers.get('host-a')!
    workers.delete('host-a')
    await killed.stop({ timeout: 1000 }).catch(() => {}) // removes what the kill left
  },
)

maybe(
  'a partitioned worker is removed after its heartbeats stop, and rejoins when the network heals',
  async (t) => {
    const b = workers.get('host-b')!
    const net = network.getName()
    execFileSync('docker', ['network', 'disconnect', net, b.getId()])
    await until('host-b is removed', async () =>
      (await status()).workers.every((w) => w.host !== 'host-b'),
    )
    t.pass('removed after missing heartbeats')
    // A task that may run only on host-b waits while host-b is away, and runs when it is back.
    const waiting = client.submit(
      task((x: number) => x + 1, { workers: ['host-b'] }),
      41,
    )
    await new Promise((r) => setTimeout(r, 500))
    t.false(waiting.done())
    execFileSync('docker', ['network', 'connect', net, b.getId()])
    await until(
      'host-b is back',
      async () => (await status()).workers.some((w) => w.host === 'host-b'),
      60_000,
    )
    t.is(await waiting.result(30_000), 42)
  },
)
