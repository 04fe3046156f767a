// Real coordinator and worker processes (the `clusterpool` CLI) for the restart tests: a
// coordinator can be SIGKILLed and started again on the same port.
import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { readFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { fileURLToPath } from 'node:url'

const CLI = fileURLToPath(import.meta.resolve('clusterpool/cli'))

/** A port that was free a moment ago. */
export async function freePort(): Promise<number> {
  const server = createServer()
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const port = (server.address() as { port: number }).port
  server.close()
  await once(server, 'close')
  return port
}

export interface Proc {
  readonly child: ChildProcess
  /** Everything it wrote, stdout and stderr. */
  output(): string
  /** Resolves with its exit code (or signal) once it exited. */
  readonly exited: Promise<number | string>
}

function run(args: string[], env: NodeJS.ProcessEnv = {}): Proc {
  const base = { ...process.env }
  delete base.CLUSTERPOOL_TOKEN
  const child = spawn(process.execPath, [CLI, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...base, ...env },
  })
  let out = ''
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()))
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()))
  const exited = new Promise<number | string>((resolve) =>
    child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)),
  )
  return { child, output: () => out, exited }
}

/** `clusterpool coordinator --port PORT`; resolves once it listens. */
export async function startCoordinatorProcess(port: number, extra: string[] = []): Promise<Proc> {
  const p = run(['coordinator', '--port', String(port), '--log-level', 'warn', ...extra])
  const deadline = Date.now() + 60_000
  while (!p.output().includes('listening on')) {
    if (p.child.exitCode !== null || Date.now() > deadline)
      throw new Error(`the coordinator did not start:\n${p.output()}`)
    await new Promise((r) => setTimeout(r, 20))
  }
  return p
}

/** `clusterpool worker URL --procs N --name NAME`. */
export function startWorkerProcess(
  url: string,
  name: string,
  procs = 2,
  env: NodeJS.ProcessEnv = {},
): Proc {
  return run(['worker', url, '--procs', String(procs), '--name', name, '--log-level', 'warn'], env)
}

/** SIGKILLs `p` and waits until it is gone. */
export async function kill(p: Proc): Promise<void> {
  if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL')
  await p.exited
}

/** How many times each tag was written to the run log (one line per run). */
export function runCounts(file: string): Map<string, number> {
  const counts = new Map<string, number>()
  let text = ''
  try {
    text = readFileSync(file, 'utf8')
  } catch {
    return counts
  }
  for (const line of text.split('\n')) if (line) counts.set(line, (counts.get(line) ?? 0) + 1)
  return counts
}

/** GET `http://127.0.0.1:PORT/api/status` as JSON. */
export async function status(
  port: number,
): Promise<{ workers: unknown[] } & Record<string, unknown>> {
  const res = await fetch(`http://127.0.0.1:${port}/api/status`)
  return (await res.json()) as { workers: unknown[] } & Record<string, unknown>
}
