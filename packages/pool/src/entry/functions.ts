import type { FnRef } from '@clusterpool/protocol'
import { InvalidTaskError, TaskScopeError, fnLabel } from '@clusterpool/protocol'

import { compileSource, importModule } from './modules.js'

/** A task function ready to call, with what the runner learns about it. */
export interface LoadedFunction {
  readonly fn: (...args: unknown[]) => unknown
  readonly label: string
  /** For shipped source: the file name its frames carry in stack traces. */
  readonly sourceFile: string | undefined
  /** How long its last call took in this child, in ms; `Infinity` before the first. */
  lastDurationMs: number
}

type Slot =
  | { state: 'defined'; ref: FnRef }
  | { state: 'loading'; ref: FnRef; promise: Promise<LoadedFunction> }
  | { state: 'ready'; ref: FnRef; loaded: LoadedFunction }
  | { state: 'failed'; ref: FnRef; error: unknown }

/**
 * The functions this child knows, by the id the parent gave them. A source function is compiled
 * on its first call and kept; a module is imported on its first call (a failed import is tried
 * again next time, since the file may have changed; a source that does not compile is not).
 *
 * ```
 *   define ──► defined ──get: source compiles──────────► ready
 *                 │ ──get: source fails to compile─────► failed
 *                 └──get: module──► loading ──imported─► ready
 *                                      └────fails──────► defined
 * ```
 */
export class FunctionCache {
  readonly #slots = new Map<number, Slot>()

  define(id: number, ref: FnRef): void {
    if (!this.#slots.has(id)) this.#slots.set(id, { state: 'defined', ref })
  }

  forget(id: number): void {
    this.#slots.delete(id)
  }

  get size(): number {
    return this.#slots.size
  }

  /** The function, or a promise of it while its module loads. Throws if it cannot be had. */
  get(id: number): LoadedFunction | Promise<LoadedFunction> {
    const slot = this.#slots.get(id)
    if (slot === undefined) {
      throw new Error(`function ${id} was never defined in this child (a pool protocol bug)`)
    }
    switch (slot.state) {
      case 'ready':
        return slot.loaded
      case 'loading':
        return slot.promise
      case 'failed':
        throw slot.error
      case 'defined':
        return this.#load(id, slot.ref)
    }
  }

  #load(id: number, ref: FnRef): LoadedFunction | Promise<LoadedFunction> {
    if (ref.kind === 'source') {
      try {
        const loaded = compile(ref.source, fnLabel(ref))
        this.#slots.set(id, { state: 'ready', ref, loaded })
        return loaded
      } catch (error) {
        this.#slots.set(id, { state: 'failed', ref, error })
        throw error
      }
    }
    const promise = loadExport(ref.url, ref.exportName).then(
      (loaded) => {
        if (this.#slots.get(id)?.state === 'loading') {
          this.#slots.set(id, { state: 'ready', ref, loaded })
        }
        return loaded
      },
      (error: unknown) => {
        if (this.#slots.get(id)?.state === 'loading') this.#slots.set(id, { state: 'defined', ref })
        throw error
      },
    )
    this.#slots.set(id, { state: 'loading', ref, promise })
    return promise
  }
}

function compile(source: string, label: string): LoadedFunction {
  const { value, file } = compileSource(source, label)
  if (typeof value !== 'function') {
    throw new InvalidTaskError(`the source of ${label} is not a function expression`)
  }
  return {
    fn: value as (...args: unknown[]) => unknown,
    label,
    sourceFile: file,
    lastDurationMs: Infinity,
  }
}

async function loadExport(url: string, exportName: string): Promise<LoadedFunction> {
  const label = fnLabel({ kind: 'module', url, exportName })
  const mod = await importModule(url)
  let value = mod[exportName]
  // A CommonJS module's exports may sit only on `default`.
  if (value === undefined && exportName !== 'default') {
    const cjs = mod.default as Record<string, unknown> | undefined
    if (typeof cjs === 'object' || typeof cjs === 'function') value = cjs?.[exportName]
  }
  if (value === undefined) {
    const names = Object.keys(mod)
    throw new InvalidTaskError(
      `module ${url} has no export named "${exportName}"` +
        (names.length === 0 ? ' (it has no exports)' : `; its exports are: ${names.join(', ')}`),
    )
  }
  if (typeof value !== 'function') {
    throw new InvalidTaskError(
      `export "${exportName}" of module ${url} is a ${typeof value}, not a function`,
    )
  }
  return {
    fn: value as (...args: unknown[]) => unknown,
    label,
    sourceFile: undefined,
    lastDurationMs: Infinity,
  }
}

const NOT_DEFINED = /^(\S+) is not defined$/

/**
 * A source task's own `ReferenceError: x is not defined` almost always means it used a variable
 * of the scope it was written in; say so with `TaskScopeError`, keeping the original as cause.
 * Only errors raised in the task's own code count (its file is the top frame of the stack).
 */
export function explainScopeError(loaded: LoadedFunction, error: unknown): unknown {
  if (loaded.sourceFile === undefined || !(error instanceof ReferenceError)) return error
  const match = NOT_DEFINED.exec(error.message)
  if (match === null) return error
  const stack = typeof error.stack === 'string' ? error.stack : ''
  const topFrame = stack.split('\n').find((line) => line.trimStart().startsWith('at '))
  if (topFrame !== undefined && !topFrame.includes(loaded.sourceFile)) return error
  return new TaskScopeError(match[1] ?? '?', { cause: error })
}
