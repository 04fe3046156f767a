// The `clusterpool` command as a user runs it: the committed bin file, real coordinator and
// worker processes, and a client that submits to them.
import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'

import test from 'ava'

import { ClusterExecutor, NoWorkerError, task } from '../src/index.js'

const BIN = fileURLToPath(new URL('../bin/clusterpool.js', import.meta.url))
const TOKEN = 'cli-test-token-0123456789'

interface Run {
  code: number | null
  stdout: string
  stderr: string
}

/** Runs `clusterpool ...args` to its end. */
async function run(args: string[], env: Record<string, string> = {}): Promise<Run> {
  const child = spawn(process.execPath, [BIN, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NODE_OPTIONS: '', ...env },
  })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000)
  const [code] = (await once(child, 'exit')) as [number | null]
  clearTimeout(timer)
  return { code, stdout, stderr }
}

/** Starts `clusterpool ...args` and resolves once a line of its output matches `ready`. */
async function start(
  args: string[],
  ready: RegExp,
): Promise<{ child: ChildProcess; match: RegExpMatchArray; output: () => string }> {
  const child = spawn(process.execPath, [BIN, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NODE_OPTIONS: '', CLUSTERPOOL_TOKEN: '' },
  })
  let output = ''
  const match = await new Promise<RegExpMatchArray>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`not ready in 30 s:\n${output}`)), 30_000)
    const onData = (d: Buffer): void => {
      output += d.toString()
      const m = ready.exec(output)
      if (m) {
        clearTimeout(timer)
        resolve(m)
      }
    }
    child.stdout.on('data', onData)
    child.stderr.on('data', onData)
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`exited with ${String(code)} before it was ready:\n${output}`))
    })
  })
  return { child, match, output: () => output }
}

async function stop(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return child.exitCode
  const exited = once(child, 'exit')
  child.kill('SIGTERM')
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000)
  const [code] = (await exited) as [number | null]
  clearTimeout(timer)
  return code
}

test('clusterpool --help lists the three commands', async (t) => {
  const { code, stdout } = await run(['--help'])
  t.is(code, 0)
  for (const command of ['coordinator', 'worker', 'status']) t.regex(stdout, new RegExp(command))
})

test('each command documents its flags and their environment variables', async (t) => {
  const coordinator = await run(['coordinator', '--help'])
  t.is(coordinator.code, 0)
  t.regex(coordinator.stdout, /--token/)
  t.regex(coordinator.stdout, /CLUSTERPOOL_TOKEN/)
  t.regex(coordinator.stdout, /--port/)
  const worker = await run(['worker', '--help'])
  t.is(worker.code, 0)
  t.regex(worker.stdout, /--procs/)
  t.regex(worker.stdout, /CLUSTERPOOL_PROCS/)
  t.regex(worker.stdout, /--resources/)
  for (const flag of [
    '--memory-limit',
    '--memory-target',
    '--memory-spill',
    '--memory-pause',
    '--local-directory',
    '--max-spill',
  ])
    t.regex(worker.stdout, new RegExp(flag))
  t.regex(worker.stdout, /CLUSTERPOOL_MEMORY_PAUSE/)
  const status = await run(['status', '--help'])
  t.is(status.code, 0)
  t.regex(status.stdout, /--json/)
})

test('a wrong command or a missing URL fails with a message and a non-zero code', async (t) => {
  const unknown = await run(['cordinator'])
  t.not(unknown.code, 0)
  t.regex(unknown.stderr, /unknown command/)
  const noUrl = await run(['worker'], { CLUSTERPOOL_COORDINATOR: '' })
  t.not(noUrl.code, 0)
  t.regex(noUrl.stderr, /missing coordinator URL/)
  const badProcs = await run(['worker', 'ws://127.0.0.1:1', '--procs', 'many'])
  t.not(badProcs.code, 0)
  t.regex(badProcs.stderr, /--procs/)
  const order = await run(['worker', 'ws://127.0.0.1:1', '--memory-target', '0.9'])
  t.not(order.code, 0)
  t.regex(order.stderr, /memory fractions must rise: --memory-target \(0\.9\)/)
  const badSize = await run(['worker', 'ws://127.0.0.1:1', '--max-spill', 'lots'])
  t.not(badSize.code, 0)
  t.regex(badSize.stderr, /--max-spill: "lots" is not a size/)
})

test('flag values that only look valid are refused, naming the flag', async (t) => {
  for (const port of ['', '0x4970', '1e3']) {
    const r = await run(['coordinator', '--port', port])
    t.not(r.code, 0, `--port ${JSON.stringify(port)}`)
    t.regex(r.stderr, /--port/)
  }
  const level = await run(['coordinator', '--log-level', 'bogus'])
  t.not(level.code, 0)
  t.regex(level.stderr, /--log-level.*Allowed choices are fatal, error/)
  const shortToken = await run(['coordinator', '--port', '0', '--token', 'short'])
  t.not(shortToken.code, 0)
  t.regex(shortToken.stderr, /--token must be a string of at least 8 characters/)
  const noCert = await run([
    'coordinator',
    '--tls-cert',
    '/nonexistent',
    '--tls-key',
    '/nonexistent',
  ])
  t.not(noCert.code, 0)
  t.regex(noCert.stderr, /--tls-cert: cannot read \/nonexistent/)
  const infinite = await run(['worker', 'ws://127.0.0.1:1', '--resources', 'GPU=1e999'])
  t.not(infinite.code, 0)
  t.regex(infinite.stderr, /--resources: "GPU=1e999"/)
})

test('CLUSTERPOOL_INSECURE=false or 0 does not turn insecure mode on', async (t) => {
  for (const value of ['false', '0', 'no', '']) {
    const r = await run(['coordinator', '--host', '0.0.0.0', '--port', '0'], {
      CLUSTERPOOL_INSECURE: value,
    })
    t.not(r.code, 0, `CLUSTERPOOL_INSECURE=${value}`)
    t.regex(r.stderr, /no token is set/)
  }
  const unclear = await run(['coordinator', '--host', '0.0.0.0', '--port', '0'], {
    CLUSTERPOOL_INSECURE: 'maybe',
  })
  t.not(unclear.code, 0)
  t.regex(unclear.stderr, /CLUSTERPOOL_INSECURE must be 1, true, 0 or false, got "maybe"/)
})

/** Runs a `--watch` command until it printed `count` lines (or 20 s passed), then stops it. */
async function watchLines(
  args: string[],
  count: number,
): Promise<{ stdout: string[]; stderr: string }> {
  const child = spawn(process.execPath, [BIN, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NODE_OPTIONS: '' },
  })
  let stdout = ''
  let stderr = ''
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, 20_000)
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString()
      if (stdout.split('\n').length > count) {
        clearTimeout(timer)
        resolve()
      }
    })
  })
  child.kill('SIGKILL')
  await once(child, 'exit')
  return { stdout: stdout.split('\n').slice(0, count), stderr }
}

test('status --watch rides out a coordinator that is not there yet', async (t) => {
  const child = spawn(process.execPath, [BIN, 'status', 'http://127.0.0.1:9', '--watch', '0.5'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NODE_OPTIONS: '' },
  })
  let stderr = ''
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
  await new Promise((resolve) => setTimeout(resolve, 2500))
  t.is(child.exitCode, null, `still watching: ${stderr}`)
  t.true(stderr.split('retrying').length > 2, stderr)
  t.regex(stderr, /cannot reach http:\/\/127\.0\.0\.1:9/)
  child.kill('SIGKILL')
  await once(child, 'exit')
  const once_ = await run(['status', 'http://127.0.0.1:9'])
  t.not(once_.code, 0, 'without --watch, an unreachable coordinator is an error')
  const zero = await run(['status', '--watch', '0'])
  t.not(zero.code, 0)
  t.regex(zero.stderr, /--watch/)
})

test('--unschedulable-timeout-ms fails a task no worker can run with NoWorkerError', async (t) => {
  const coordinator = await start(
    ['coordinator', '--port', '0', '--unschedulable-timeout-ms', '0', '--log-level', 'warn'],
    /listening on (ws:\/\/\S+) /,
  )
  t.teardown(() => stop(coordinator.child))
  const ex = await ClusterExecutor.connect(coordinator.match[1]!)
  t.teardown(() => ex.shutdown())
  const error = await t.throwsAsync(
    ex
      .submit(
        task((x: number) => x, { resources: { TPU: 1 } }),
        1,
      )
      .result(10_000),
    { instanceOf: NoWorkerError },
  )
  t.regex(error.message, /TPU/)
})

test.serial('coordinator, worker and status run a cluster end to end', async (t) => {
  const coordinator = await start(
    ['coordinator', '--port', '0', '--token', TOKEN, '--log-level', 'warn'],
    /listening on (ws:\/\/\S+) /,
  )
  t.teardown(() => stop(coordinator.child))
  const url = coordinator.match[1]!
  const worker = await start(
    [
      'worker',
      url,
      '--procs',
      '1',
      '--name',
      'cli-worker',
      '--token',
      TOKEN,
      '--memory-limit',
      '400MB',
      '--log-level',
      'info',
    ],
    /registered|joined|welcome/i,
  )
  t.teardown(() => stop(worker.child))

  const ex = await ClusterExecutor.connect(url, { token: TOKEN })
  t.is(await ex.submit((x: number) => x * 2, 21), 42)
  await ex.shutdown()

  // The memory columns come from the worker's heartbeat (every second).
  await new Promise((resolve) => setTimeout(resolve, 1500))
  const table = await run(['status', url, '--token', TOKEN])
  t.is(table.code, 0, table.stderr)
  t.regex(table.stdout, /cli-worker/)
  t.regex(table.stdout, /rss\s+managed\s+unmanaged\s+spilled\s+limit/)
  t.regex(table.stdout, /381 MiB/, 'the limit, 400 MB')
  const json = await run(['status', url.replace('ws:', 'http:'), '--json'], {
    CLUSTERPOOL_TOKEN: TOKEN,
  })
  t.is(json.code, 0, json.stderr)
  const status = JSON.parse(json.stdout) as {
    workers: { name: string; memory: { limitBytes: number; state: string } | null }[]
  }
  t.deepEqual(
    status.workers.map((w) => w.name),
    ['cli-worker'],
  )
  t.like(status.workers[0]!.memory, { limitBytes: 400e6, state: 'ok' })
  const refused = await run(['status', url, '--token', 'wrong'])
  t.not(refused.code, 0)
  t.regex(refused.stderr, /refused the token/)

  // `status --watch 1 | head -3`: once the reader is gone, the command ends quietly.
  const watch = spawn(process.execPath, [BIN, 'status', url, '--token', TOKEN, '--watch', '1'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NODE_OPTIONS: '' },
  })
  let watchErr = ''
  watch.stderr.on('data', (d: Buffer) => (watchErr += d.toString()))
  await once(watch.stdout, 'data')
  watch.stdout.destroy()
  const watchKill = setTimeout(() => watch.kill('SIGKILL'), 15_000)
  const [watchCode] = (await once(watch, 'exit')) as [number | null]
  clearTimeout(watchKill)
  t.is(watchCode, 0, watchErr)
  t.notRegex(watchErr, /EPIPE/)

  // `status --watch 1 --json` into a pipe: one JSON object per line, nothing else.
  const lines = await watchLines(['status', url, '--token', TOKEN, '--watch', '1', '--json'], 2)
  t.is(lines.stdout.length, 2, lines.stderr)
  for (const line of lines.stdout)
    t.deepEqual(
      (JSON.parse(line) as { workers: { name: string }[] }).workers.map((w) => w.name),
      ['cli-worker'],
    )

  t.is(await stop(worker.child), 0, 'the worker drains and exits 0 on SIGTERM')
  t.is(await stop(coordinator.child), 0)
})
