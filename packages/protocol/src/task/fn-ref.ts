import { createHash } from 'node:crypto'

import { InvalidTaskError } from '../errors/errors.js'

/**
 * How a task names its code.
 *
 * - `source`: a self-contained function, shipped as its source text and compiled once per
 *   process, cached by `hash`. `source` may be omitted on the wire once the peer has it.
 * - `module`: an export of a module (a file URL or a specifier resolved from the worker's
 *   working directory), imported once per process. `.ts` modules run without a build step.
 */
export type FnRef = SourceFnRef | ModuleFnRef

export interface SourceFnRef {
  readonly kind: 'source'
  readonly hash: string
  readonly source: string
  /** The function's name, for logs, metrics and duration estimates. */
  readonly name: string
}

export interface ModuleFnRef {
  readonly kind: 'module'
  readonly url: string
  readonly exportName: string
}

/** A stable key per function: used for caching, duration estimates and the dashboard. */
export function fnKey(ref: FnRef): string {
  return ref.kind === 'source' ? ref.hash : `${ref.url}#${ref.exportName}`
}

/** A short human name for a function: `cpuHeavy`, `tasks.js#cpuHeavy`, `<anonymous 3fa2c1>`. */
export function fnLabel(ref: FnRef): string {
  if (ref.kind === 'module') {
    const file = ref.url.slice(ref.url.lastIndexOf('/') + 1)
    return `${file}#${ref.exportName}`
  }
  return ref.name || `<anonymous ${ref.hash.slice(0, 6)}>`
}

/**
 * The hash that names a function's source on the wire: 22 base64url characters of its SHA-256.
 * Whoever caches a source checks it against this before keeping it (`SourceCache`), so a peer
 * cannot put other code under a hash that names an honest function.
 */
export function sourceHash(source: string): string {
  return createHash('sha256').update(source).digest('base64url').slice(0, 22)
}

const cache = new WeakMap<(...args: never[]) => unknown, SourceFnRef>()

/**
 * Describes a self-contained function for shipping, refusing the kinds that cannot be rebuilt
 * from source: native and bound functions, classes, and class or object methods.
 */
export function sourceFnRef(fn: (...args: never[]) => unknown): SourceFnRef {
  const cached = cache.get(fn)
  if (cached) return cached
  if (typeof fn !== 'function') {
    throw new InvalidTaskError(
      `a task must be a function or a task(...) reference, got ${typeof fn}`,
    )
  }
  const source = Function.prototype.toString.call(fn)
  const label = fn.name ? `function ${fn.name}` : 'the function'
  if (/\{\s*\[native code\]\s*\}\s*$/.test(source)) {
    if (fn.name.startsWith('bound ')) {
      const target = fn.name.slice('bound '.length).trim()
      const bound = target === '' ? 'the function' : `function ${target}`
      throw new InvalidTaskError(
        `${bound} is a bound function, which cannot be shipped to a worker: its bound \`this\` and ` +
          'arguments live only in this process. Submit the unbound function and pass the values as arguments.',
      )
    }
    throw new InvalidTaskError(
      `${label} is a native function, which has no source to ship. Wrap it: (x) => Math.sqrt(x).`,
    )
  }
  if (/^class\b/.test(source)) {
    throw new InvalidTaskError(`${label} is a class; submit a function (or a module task) instead.`)
  }
  if (!compilesAsExpression(source)) {
    throw new InvalidTaskError(
      `${label} is a class or object method (\`${firstLine(source)}\`), which cannot be rebuilt from ` +
        'its source. Use a function expression or an arrow function, or a module task.',
    )
  }
  const ref: SourceFnRef = {
    kind: 'source',
    hash: sourceHash(source),
    source,
    name: fn.name,
  }
  cache.set(fn, ref)
  return ref
}

function compilesAsExpression(source: string): boolean {
  try {
    // Parses only; the body is never run here.
    // eslint-disable-next-line @typescript-eslint/no-implied-eval
    new Function(`return (${source}\n)`)
    return true
  } catch {
    return false
  }
}

function firstLine(source: string): string {
  const line = source.split('\n', 1)[0] ?? ''
  return line.length > 60 ? `${line.slice(0, 57)}...` : line
}

/** Makes a module reference, turning a URL object into its string. */
export function moduleFnRef(module: string | URL, exportName = 'default'): ModuleFnRef {
  if (typeof module !== 'string' && !(module instanceof URL)) {
    throw new InvalidTaskError(
      'task(module, exportName): module must be a string specifier or a URL',
    )
  }
  if (typeof exportName !== 'string' || exportName === '') {
    throw new InvalidTaskError('task(module, exportName): exportName must be a non-empty string')
  }
  return { kind: 'module', url: String(module), exportName }
}
