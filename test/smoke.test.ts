// The smoke test: a plain `node` program (no tsx, no build step of its own) imports the built
// packages by name, the way a user's program does, and runs a LocalCluster and a process pool.
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

import test from 'ava'

// Inside the repository, so that node_modules (and so the packages) resolve as they would for
// a user's program in a project that depends on them.
const SMOKE_ROOT = fileURLToPath(new URL('./.smoke/', import.meta.url))

const PROGRAM = `
import { ClusterExecutor, ProcessPoolExecutor, task, TaskScopeError, LocalCluster } from 'clusterpool'

const out = {}
// Plain Node 20 has no \`await using\`: close in finally.
const cluster = await LocalCluster.start({ workers: 2, procs: 1, workerOutput: 'ignore' })
try {
const embedded = cluster.executor()
out.embedded = await embedded.submit((a, b) => a + b, 40, 2)
const remote = await ClusterExecutor.connect(cluster.url, { token: cluster.token })
const squares = []
for await (const v of remote.map((x) => x * x, [1, 2, 3, 4])) squares.push(v)
out.squares = squares
out.chained = await remote.submit((x) => x + 1, remote.submit((x) => x * 10, 4))
out.map = await remote.submit(() => new Map([['k', new Set([1n])]]))
out.mapType = out.map instanceof Map ? 'Map' : typeof out.map
out.workers = cluster.coordinator.status().workers.length
await remote.shutdown()
} finally {
  await cluster.close()
}

const pool = new ProcessPoolExecutor({ maxWorkers: 2 })
out.pool = await pool.submit((n) => { let c = 0; for (let i = 0; i < n; i++) c += i; return c }, 1000)
out.poolPid = (await pool.submit(() => process.pid)) !== process.pid
const offset = 1
out.scope = await pool.submit((x) => x + offset, 1).catch((e) => e instanceof TaskScopeError)
out.module = await pool.submit(task(new URL('./tasks.mjs', import.meta.url), 'hello'), 'smoke')
await pool.shutdown()
delete out.map
console.log(JSON.stringify(out))
`

const TASKS = `export function hello(name) { return 'hello ' + name }\n`

test('a plain node program uses the built packages by name', async (t) => {
  const dir = join(SMOKE_ROOT, `run-${process.pid}`)
  mkdirSync(dir, { recursive: true })
  t.teardown(() => rmSync(SMOKE_ROOT, { recursive: true, force: true }))
  writeFileSync(join(dir, 'smoke.mjs'), PROGRAM)
  writeFileSync(join(dir, 'tasks.mjs'), TASKS)
  const child = spawn(process.execPath, ['smoke.mjs'], {
    cwd: dir,
    stdio: ['ignore', 'pipe', 'pipe'],
    // No tsx anywhere: the program runs as a user's would.
    env: { ...process.env, NODE_OPTIONS: '' },
  })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
  const timer = setTimeout(() => child.kill('SIGKILL'), 90_000)
  const [code] = (await once(child, 'exit')) as [number | null]
  clearTimeout(timer)
  t.is(code, 0, stderr)
  t.deepEqual(JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}'), {
    embedded: 42,
    squares: [1, 4, 9, 16],
    chained: 41,
    mapType: 'Map',
    workers: 2,
    pool: 499500,
    poolPid: true,
    scope: true,
    module: 'hello smoke',
  })
})
