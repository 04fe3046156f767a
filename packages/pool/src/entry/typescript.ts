import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { isMainThread } from 'node:worker_threads'

/**
 * TypeScript modules run in pool children without a build step: tsx is registered in the child
 * (process or thread) before the first import that needs it.
 *
 * An import needs it when the module is itself `.ts`/`.mts`/`.cts`, or when it is a local file
 * in a TypeScript project (a `tsconfig.json` in its folder or any above): a `.js` module there may
 * import `.ts` ones, and once Node has failed to load one, it keeps failing in that process.
 */

const TS_EXTENSION = /\.[cm]?ts$/i

let registration: Promise<void> | undefined

/**
 * True when this code itself runs through tsx (tests run the entry from source) or the flags load
 * it. A worker thread sees its process's flags, but Node 20 does not apply the process's
 * `--import` hooks to threads: there only the first test counts.
 */
function alreadyActive(): boolean {
  return (
    import.meta.url.endsWith('.ts') ||
    (isMainThread && process.execArgv.some((a) => a.includes('tsx')))
  )
}

/** Registers tsx in this process or thread, once. */
export function ensureTypeScript(): Promise<void> {
  if (alreadyActive()) return Promise.resolve()
  registration ??= import('tsx/esm/api').then((api) => {
    api.register()
  })
  return registration
}

export function typeScriptActive(): boolean {
  return registration !== undefined || alreadyActive()
}

/** Whether importing `href` (a URL, or a specifier resolved from cwd) should register tsx first. */
export function needsTypeScript(href: string): boolean {
  let url: URL
  try {
    url = new URL(href, `file://${process.cwd()}/`)
  } catch {
    return false
  }
  if (TS_EXTENSION.test(url.pathname)) return true
  const localFile =
    url.protocol === 'file:' && (href.startsWith('file:') || /^\.{0,2}\//.test(href))
  if (!localFile) return false
  return inTypeScriptProject(dirname(fileURLToPath(url)))
}

const projectCache = new Map<string, boolean>()

function inTypeScriptProject(dir: string): boolean {
  const cached = projectCache.get(dir)
  if (cached !== undefined) return cached
  const parent = dirname(dir)
  const found =
    existsSync(join(dir, 'tsconfig.json')) || (parent !== dir && inTypeScriptProject(parent))
  projectCache.set(dir, found)
  return found
}

/** Node's error for a `.ts` file imported without a loader. */
export function isUnknownTsExtension(error: unknown): boolean {
  return (
    (error as { code?: unknown } | null)?.code === 'ERR_UNKNOWN_FILE_EXTENSION' &&
    /\.[cm]?ts"/i.test(String((error as Error).message))
  )
}
