// Every child process the bench starts goes through here, in its own process group, so that
// `killAll` can end it together with its descendants (Dask's nannies and workers, worker daemons).
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process'
import { once } from 'node:events'
import { createInterface } from 'node:readline'

import { log } from './result.js'
import { BenchTimeoutError, withTimeout } from './timeout.js'

const live = new Set<ChildProcess>()

/** Starts `command` in a new process group and registers it for `killAll`. */
export function startChild(
  command: string,
  args: readonly string[],
  options: SpawnOptions = {},
): ChildProcess {
  const child = spawn(command, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    ...options,
    detached: true,
  })
  live.add(child)
  child.once('exit', () => live.delete(child))
  child.once('error', () => live.delete(child))
  return child
}

/**
 * Starts `node --import=tsx script ...args`, a server that prints `{"port": N}` once listening
 * (children/serve.ts), and waits up to 30 s for that line; a child that never prints it is killed.
 */
export async function startLoopbackServer(
  script: string,
  args: readonly string[],
  what: string,
): Promise<{ child: ChildProcess; port: number }> {
  const child = startChild(process.execPath, ['--import=tsx', script, ...args], {
    stdio: ['pipe', 'pipe', 'inherit'],
  })
  try {
    const lines = createInterface({ input: child.stdout! })
    const [line] = (await withTimeout(once(lines, 'line'), 30_000, `${what} start`)) as [string]
    return { child, port: (JSON.parse(line) as { port: number }).port }
  } catch (error) {
    await killChild(child)
    throw error
  }
}

/** SIGTERM to the child's process group, then SIGKILL after `graceMs`. */
export async function killChild(child: ChildProcess, graceMs = 2000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  signalGroup(child, 'SIGTERM')
  const timer = setTimeout(() => signalGroup(child, 'SIGKILL'), graceMs)
  await exited
  clearTimeout(timer)
  // The leader is gone; make sure nothing of its group outlives it.
  signalGroup(child, 'SIGKILL')
}

function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return
  try {
    process.kill(-child.pid, signal)
  } catch {
    // Already gone.
  }
}

/** Ends every child still running (on normal exit, on error and on SIGINT). */
export async function killAll(): Promise<void> {
  await Promise.all([...live].map((c) => killChild(c, 1500)))
}

/** Synchronous last resort for `process.on('exit')`. */
export function killAllNow(): void {
  for (const c of live) signalGroup(c, 'SIGKILL')
}

export interface JsonLinesRun {
  /** Every line of stdout that parsed as a JSON object, in order. */
  readonly records: Record<string, unknown>[]
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
  readonly stderrTail: string
  readonly timedOut: boolean
}

/**
 * Runs a child that prints one JSON object per line, handing each to `onRecord` as it arrives
 * (so the figures of a child that times out half-way are kept), and kills it after `timeoutMs`.
 */
export async function runJsonLines(
  command: string,
  args: readonly string[],
  timeoutMs: number,
  onRecord: (record: Record<string, unknown>) => void,
  options: SpawnOptions = {},
): Promise<JsonLinesRun> {
  const child = startChild(command, args, options)
  const records: Record<string, unknown>[] = []
  let stderr = ''
  child.stderr?.setEncoding('utf8')
  child.stderr?.on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-4000)
  })
  const lines = createInterface({ input: child.stdout! })
  lines.on('line', (line) => {
    const trimmed = line.trim()
    if (!trimmed.startsWith('{')) return
    try {
      const record = JSON.parse(trimmed) as Record<string, unknown>
      records.push(record)
      onRecord(record)
    } catch {
      log(`unparsable line from ${command}: ${trimmed.slice(0, 200)}`)
    }
  })
  let timedOut = false
  const timer = setTimeout(() => {
    timedOut = true
    void killChild(child)
  }, timeoutMs)
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => {
    child.once('error', (error) => {
      stderr += `\n${error.message}`
      resolve([null, null])
    })
    child.once('close', (c, s) => resolve([c, s]))
  })
  clearTimeout(timer)
  return {
    records,
    code,
    signal,
    stderrTail: stderr.trim().split('\n').slice(-8).join('\n'),
    timedOut,
  }
}

/** Runs a command to completion and returns its output; rejects on timeout. */
export async function runCommand(
  command: string,
  args: readonly string[],
  timeoutMs: number,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = startChild(command, args)
  let stdout = ''
  let stderr = ''
  child.stdout?.setEncoding('utf8').on('data', (c: string) => (stdout += c))
  child.stderr?.setEncoding('utf8').on('data', (c: string) => (stderr = (stderr + c).slice(-8000)))
  let timedOut = false
  const timer = setTimeout(() => {
    timedOut = true
    void killChild(child)
  }, timeoutMs)
  const code = await new Promise<number | null>((resolve) => {
    child.once('error', (e) => {
      stderr += e.message
      resolve(null)
    })
    child.once('close', (c) => resolve(c))
  })
  clearTimeout(timer)
  if (timedOut)
    throw new BenchTimeoutError(`${command} ${args.join(' ')} timed out after ${timeoutMs} ms`)
  return { code, stdout, stderr }
}
