// Chaos across container hosts (issue 12): a coordinator container and three worker containers
// on a private Docker network, a client on this host running 20,000 tasks of 1–20 ms in three
// shapes (plain, dependency chains, held results), while
// - one worker host is `docker kill`ed every ~2 s and started again,
// - one worker host is paused past its heartbeat timeout, then unpaused,
// - the coordinator is killed once and started again.
// Every future must settle once with its right value; the tasks that ran more than once (allowed
// only where a worker died) are counted from a run log every task appends to (a bind mount).
import { execFile, execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync, chmodSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'

import { ClusterExecutor, type Future } from 'clusterpool'
import {
  GenericContainer,
  Network,
  Wait,
  type StartedNetwork,
  type StartedTestContainer,
} from 'testcontainers'

import { freePort } from '../helpers/restart.js'

import { dockerTests, ownerLabel, removeStaleContainers } from './docker.js'

process.env.TESTCONTAINERS_RYUK_DISABLED = 'true'
const run = promisify(execFile)
const repo = fileURLToPath(new URL('../..', import.meta.url))
const token = randomBytes(12).toString('hex')
const owner = 'chaos'
const image = 'clusterpool:chaos-test'

const { maybe } = dockerTests('the chaos test')

const PLAIN = 14_000
const CHAINS = 1000
const CHAIN_LENGTH = 4
const HELD = 2000
const TOTAL = PLAIN + CHAINS * CHAIN_LENGTH + HELD

const plain = async (tag: string, x: number, ms: number): Promise<number> => {
  const fs = await import('node:fs')
  fs.appendFileSync('/runs/runs.log', `${tag}\n`)
  await new Promise((resolve) => setTimeout(resolve, ms))
  return x * 2
}
const step = async (tag: string, prev: number, ms: number): Promise<number> => {
  const fs = await import('node:fs')
  fs.appendFileSync('/runs/runs.log', `${tag}\n`)
  await new Promise((resolve) => setTimeout(resolve, ms))
  return prev + 1
}
/** Over the 64 KiB hold threshold: stays on its worker until awaited. */
const held = async (tag: string, n: number, ms: number): Promise<string> => {
  const fs = await import('node:fs')
  fs.appendFileSync('/runs/runs.log', `${tag}\n`)
  await new Promise((resolve) => setTimeout(resolve, ms))
  return `${n}:`.padEnd(70_000, 'x')
}

const docker = (...args: string[]): Promise<unknown> => run('docker', args)
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))
/** What a container's engine says of it and its last log lines, for a failure's message. */
const containerReport = async (name: string, id: string): Promise<string> => {
  const state = await run('docker', [
    'inspect',
    '-f',
    '{{.State.Status}} exit={{.State.ExitCode}} oom={{.State.OOMKilled}} error={{.State.Error}}',
    id,
  ]).then(
    (r) => r.stdout.trim(),
    (error: unknown) => `inspect failed: ${String(error)}`,
  )
  const logs = await run('docker', ['logs', '--tail', '60', id]).then(
    (r) => `${r.stdout}${r.stderr}`.trim(),
    (error: unknown) => `logs failed: ${String(error)}`,
  )
  return `${name} container: ${state}\n${logs}`
}

maybe(
  'chaos: 20,000 tasks through worker kills, a paused worker and a coordinator restart',
  async (t) => {
    t.timeout(600_000)
    removeStaleContainers(owner)
    execFileSync('bash', ['deploy/base-image.sh'], { cwd: repo, stdio: 'ignore' })
    execFileSync('bash', ['deploy/build-image.sh', image], {
      cwd: repo,
      stdio: 'ignore',
      env: { ...process.env, BASE: 'clusterpool-node-base:local' },
    })
    const dir = mkdtempSync(join(tmpdir(), 'cp-chaos-'))
    chmodSync(dir, 0o777)
    const network: StartedNetwork = await new Network().start()
    const started: StartedTestContainer[] = []
    t.teardown(async () => {
      for (const c of started) await c.stop({ timeout: 1000 }).catch(() => {})
      await network.stop().catch(() => {})
      rmSync(dir, { recursive: true, force: true })
    })
    const port = await freePort()
    const coordinator = await new GenericContainer(image)
      .withLabels(ownerLabel(owner))
      .withNetwork(network)
      .withNetworkAliases('coordinator')
      .withExposedPorts({ container: 8786, host: port })
      .withEnvironment({ CLUSTERPOOL_TOKEN: token, CLUSTERPOOL_WORKER_TIMEOUT_MS: '3000' })
      .withCommand(['coordinator', '--host', '0.0.0.0', '--log-level', 'warn'])
      .withWaitStrategy(Wait.forLogMessage('coordinator listening'))
      .start()
    started.push(coordinator)
    const worker = async (name: string): Promise<StartedTestContainer> => {
      const c = await new GenericContainer(image)
        .withLabels(ownerLabel(owner))
        .withNetwork(network)
        .withHostname(name)
        .withBindMounts([{ source: dir, target: '/runs' }])
        .withEnvironment({ CLUSTERPOOL_TOKEN: token })
        .withCommand(['worker', 'ws://coordinator:8786', '--procs', '3', '--name', name])
        .withWaitStrategy(Wait.forLogMessage('registered with the coordinator'))
        .start()
      started.push(c)
      return c
    }
    const [victim, sleeper] = await Promise.all([
      worker('host-a'),
      worker('host-b'),
      worker('host-c'),
    ])

    const ex = await ClusterExecutor.connect(`ws://127.0.0.1:${port}`, { token, log: () => {} })
    t.teardown(() => ex.shutdown({ wait: false, cancelFutures: true }))
    const events: string[] = []
    ex.on('disconnected', () => events.push('disconnected'))
    ex.on('reconnected', () => events.push('reconnected'))
    const begin = performance.now()

    const futures: Future<unknown>[] = []
    const expected: unknown[] = []
    const ms = (i: number): number => 1 + (i % 20)
    for (let i = 0; i < PLAIN; i++) {
      futures.push(ex.submit(plain, `p${i}`, i, ms(i)))
      expected.push(i * 2)
    }
    for (let k = 0; k < CHAINS; k++) {
      let f: Future<number> = ex.submit(step, `c${k}-0`, k, ms(k))
      for (let s = 1; s < CHAIN_LENGTH; s++) f = ex.submit(step, `c${k}-${s}`, f, ms(k + s))
      futures.push(f)
      expected.push(k + CHAIN_LENGTH)
    }
    const helds: Future<string>[] = []
    for (let i = 0; i < HELD; i++) helds.push(ex.submit(held, `h${i}`, i, ms(i)))
    let settledTwice = 0
    const settledOnce = new WeakSet<object>()
    for (const f of [...futures, ...helds])
      f.addDoneCallback((done) => {
        if (settledOnce.has(done)) settledTwice++
        settledOnce.add(done)
      })

    // The chaos, while the work runs.
    let running = true
    const chaos = [
      (async () => {
        while (running) {
          await sleep(2000)
          if (!running) break
          await docker('kill', '-s', 'KILL', victim.getId()).catch(() => {})
          await docker('start', victim.getId()).catch(() => {})
        }
      })(),
      (async () => {
        await sleep(5000)
        await docker('pause', sleeper.getId())
        await sleep(6000) // past the 3 s heartbeat timeout
        await docker('unpause', sleeper.getId())
      })(),
      (async () => {
        await sleep(12_000)
        await docker('kill', '-s', 'KILL', coordinator.getId())
        await sleep(1000)
        await docker('start', coordinator.getId())
      })(),
    ]
    const settled = await Promise.allSettled(futures)
    const heldSettled = await Promise.allSettled(helds)
    const durationS = (performance.now() - begin) / 1000
    running = false
    await Promise.all(chaos)

    const wrong = settled.filter(
      (o, i) => o.status !== 'fulfilled' || o.value !== expected[i],
    ).length
    const wrongHeld = heldSettled.filter(
      (o, i) =>
        o.status !== 'fulfilled' ||
        o.value.split(':')[0] !== String(i) ||
        o.value.length !== 70_000,
    ).length
    const failures = [...settled, ...heldSettled]
      .filter((o): o is PromiseRejectedResult => o.status === 'rejected')
      .slice(0, 3)
      .map((o) => String(o.reason))
    if (wrong + wrongHeld > 0) t.log(await containerReport('coordinator', coordinator.getId()))
    t.is(wrong + wrongHeld, 0, `every future settles with its right value ${failures.join('; ')}`)
    t.is(settledTwice, 0, 'no future settled twice')
    const counts = new Map<string, number>()
    for (const line of readFileSync(join(dir, 'runs.log'), 'utf8').split('\n'))
      if (line) counts.set(line, (counts.get(line) ?? 0) + 1)
    t.is(counts.size, TOTAL, 'every task ran')
    const twice = [...counts.values()].filter((n) => n > 1).length
    t.deepEqual(events, ['disconnected', 'reconnected'], 'one outage, ridden out')
    t.true(await ex.submit((x: number) => x + 1, 1).then((v) => v === 2))
    t.log(
      `chaos: ${TOTAL} tasks in ${durationS.toFixed(1)} s; ${twice} ran more than once ` +
        `(their worker was killed or paused); ${wrong + wrongHeld} wrong or lost`,
    )
  },
)
