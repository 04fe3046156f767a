import { isAbsolute, join } from 'node:path'
import { pathToFileURL } from 'node:url'
import vm from 'node:vm'

import { InvalidTaskError } from '@clusterpool/protocol'

import {
  ensureTypeScript,
  isUnknownTsExtension,
  needsTypeScript,
  typeScriptActive,
} from './typescript.js'

/**
 * Loading code inside a child, the way a user expects from where the child runs:
 *
 * - `import()` inside shipped source, and module tasks named by a bare or relative specifier,
 *   resolve from the child's working directory (not from where clusterpool is installed). The
 *   code is compiled with `vm` under a file name in the working directory, with Node's own ESM
 *   loader for its dynamic imports (`vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER`, Node 20.12+).
 * - TypeScript modules run without a build step (see `typescript.ts`).
 */

/** The part of a source task's file name that marks its frames in stack traces. */
export const TASK_FILE_MARKER = '[clusterpool task '

const URL_SCHEME = /^[a-z][a-z\d+.-]+:/i

/** Compiles shipped source (a function expression) into a function. Throws SyntaxError. */
export function compileSource(source: string, label: string): { value: unknown; file: string } {
  const file = join(process.cwd(), `${TASK_FILE_MARKER}${label}]`)
  installVmWarningFilter()
  const script = new vm.Script(`(${source}\n)`, {
    filename: file,
    importModuleDynamically: vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
  })
  return { value: script.runInThisContext({ displayErrors: false }), file }
}

/** Imports a module named by a file URL, an absolute path, or a specifier resolved from cwd. */
export async function importModule(url: string): Promise<Record<string, unknown>> {
  const target = toImportTarget(url)
  if (needsTypeScript(target.specifier)) await ensureTypeScript()
  try {
    return await target.load()
  } catch (error) {
    if (!isUnknownTsExtension(error) || typeScriptActive()) throw error
    // Too late for this process: Node keeps the failed load. Register tsx for what follows,
    // and say what happened.
    await ensureTypeScript()
    throw new InvalidTaskError(
      `module ${url} imports a TypeScript file, which needs TypeScript support (tsx) ` +
        'registered before the import. Name the .ts module itself in the task, or put a ' +
        'tsconfig.json in its project, and the worker registers tsx first.',
      { cause: error },
    )
  }
}

interface ImportTarget {
  readonly specifier: string
  load(): Promise<Record<string, unknown>>
}

function toImportTarget(url: string): ImportTarget {
  if (isAbsolute(url)) {
    const href = pathToFileURL(url).href
    return { specifier: href, load: () => import(href) as Promise<Record<string, unknown>> }
  }
  if (URL_SCHEME.test(url)) {
    return { specifier: url, load: () => import(url) as Promise<Record<string, unknown>> }
  }
  return { specifier: url, load: () => importFromCwd(url) }
}

let cwdImporter: { cwd: string; load: (specifier: string) => Promise<unknown> } | undefined

/** `import(specifier)` as if written in a file in the working directory. */
function importFromCwd(specifier: string): Promise<Record<string, unknown>> {
  const cwd = process.cwd()
  if (cwdImporter?.cwd !== cwd) {
    installVmWarningFilter()
    const fn = vm.compileFunction('return import(specifier)', ['specifier'], {
      filename: join(cwd, '[clusterpool import]'),
      importModuleDynamically: vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
    }) as (specifier: string) => Promise<unknown>
    cwdImporter = { cwd, load: fn }
  }
  return cwdImporter.load(specifier) as Promise<Record<string, unknown>>
}

/**
 * Node warns that `USE_MAIN_CONTEXT_DEFAULT_LOADER` is experimental the first time code compiled
 * with it imports something, in the middle of a task; the warning would show under the task's
 * logs and means nothing to the user. That one warning is dropped; every other passes.
 */
function installVmWarningFilter(): void {
  if (warningFilterInstalled) return
  warningFilterInstalled = true
  const emitWarning = process.emitWarning.bind(process) as (...args: unknown[]) => void
  process.emitWarning = function (warning: string | Error, ...rest: unknown[]) {
    const text = typeof warning === 'string' ? warning : (warning as Error | undefined)?.message
    if (typeof text === 'string' && text.includes('USE_MAIN_CONTEXT_DEFAULT_LOADER')) return
    emitWarning(warning, ...rest)
  }
}

let warningFilterInstalled = false
