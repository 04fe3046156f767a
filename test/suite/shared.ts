// What the shared executor suite's parts share: shipped task functions, marker files and gates,
// and the `Suite` each part registers its tests on.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import type { BaseExecutor, Future, TaskContext } from 'clusterpool'
import type { ExecutionContext } from 'ava'

import type { ExecutorKind, ExecutorKit } from '../helpers/executors.js'
import { waitFor } from '../helpers/processes.js'

/** A global inside task processes and threads (see `currentTask` in @clusterpool/client). */
declare const currentTask: () => TaskContext

/** What a part of the suite registers its tests with. */
export interface Suite {
  readonly kind: ExecutorKind
  /** The kind's executors; set by the suite's `test.before`, so read it inside tests only. */
  readonly kit: ExecutorKit
  /**
   * Registers a serial test that gets a fresh executor (shut down after it). `failingOn` lists
   * the kinds on which the test shows a known, reported product bug (`test.failing`).
   */
  it(
    title: string,
    body: (t: ExecutionContext, ex: BaseExecutor) => Promise<void>,
    failingOn?: readonly ExecutorKind[],
  ): void
}

// ─── shipped task functions (self-contained: they run in another process) ────────────────────

export const echo = <T>(x: T): T => x

export const double = (x: number): number => x * 2

/**
 * Leaves `dir/name.started`, then waits until the test creates `dir/name` (the gate) and returns
 * `name`, or throws if `fail`. If its AbortSignal fires first it leaves `dir/name.aborted` and
 * throws the signal's reason. Gives up after 60 s so that a broken test cannot hang a worker.
 */
export const gated = async (dir: string, name: string, fail = false): Promise<string> => {
  const signal = currentTask().signal
  const fs = await import('node:fs')
  fs.writeFileSync(`${dir}/${name}.started`, String(process.pid))
  const deadline = Date.now() + 60_000
  while (!fs.existsSync(`${dir}/${name}`)) {
    if (signal.aborted) {
      fs.writeFileSync(`${dir}/${name}.aborted`, '')
      throw signal.reason
    }
    if (Date.now() > deadline) throw new Error(`gate ${name} never opened`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
  if (fail) throw new Error(`gate ${name} failed`)
  return name
}

/**
 * Like `gated`, but ignores its AbortSignal: it returns `name` once the gate opens, whatever
 * happened to its future meanwhile.
 */
export const stubborn = async (dir: string, name: string): Promise<string> => {
  const fs = await import('node:fs')
  fs.writeFileSync(`${dir}/${name}.started`, String(process.pid))
  const deadline = Date.now() + 60_000
  while (!fs.existsSync(`${dir}/${name}`)) {
    if (Date.now() > deadline) throw new Error(`gate ${name} never opened`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
  return name
}

/** Leaves `dir/name.ran` if it ever runs. */
export const marker = async (dir: string, name: string): Promise<string> => {
  const fs = await import('node:fs')
  fs.writeFileSync(`${dir}/${name}.ran`, '')
  return name
}

// ─── helpers ──────────────────────────────────────────────────────────────────────────────────

export interface Scratch {
  dir: string
  open(name: string): void
  has(name: string): boolean
  until(name: string): Promise<void>
}

/** A temporary directory for markers and gates, removed when the test ends. */
export function scratch(t: ExecutionContext): Scratch {
  const dir = mkdtempSync(join(tmpdir(), 'clusterpool-suite-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  return {
    dir,
    open: (name) => writeFileSync(join(dir, name), ''),
    has: (name) => existsSync(join(dir, name)),
    until: (name) => waitFor(() => existsSync(join(dir, name)), `marker ${name}`, 60_000),
  }
}

export async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = []
  for await (const v of it) out.push(v)
  return out
}

/** Each of `futures` as it completes (the cast undoes `for await`'s unwrapping of thenables). */
export async function completionOrder<T>(
  it: AsyncIterableIterator<Future<T>>,
  onEach: (f: Future<T>) => void,
): Promise<Future<T>[]> {
  const out: Future<T>[] = []
  for (;;) {
    const r = await it.next()
    if (r.done) return out
    out.push(r.value)
    onEach(r.value)
  }
}
