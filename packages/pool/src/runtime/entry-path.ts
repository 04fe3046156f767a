import { fileURLToPath } from 'node:url'

/**
 * Where the child entry programs are. Built, they sit next to this file as `.js`; when the pool
 * itself runs from TypeScript source (the package's tests, through tsx), the entries are `.ts`
 * and the children load tsx first.
 */
const FROM_SOURCE = import.meta.url.endsWith('.ts')
const EXTENSION = FROM_SOURCE ? '.ts' : '.js'

export function processEntryPath(): string {
  return fileURLToPath(new URL(`../entry/process-entry${EXTENSION}`, import.meta.url))
}

/** Node flags a child process needs before its entry (tsx, when running from source). */
export function processLoaderArgs(): string[] {
  return FROM_SOURCE ? ['--import', import.meta.resolve('tsx')] : []
}

/**
 * What to hand `new Worker`: the entry's URL, or, from source, a small script that registers
 * tsx in the thread and then imports the entry.
 */
export function threadEntry(): { filename: URL | string; eval: boolean } {
  const entry = new URL(`../entry/thread-entry${EXTENSION}`, import.meta.url)
  if (!FROM_SOURCE) return { filename: entry, eval: false }
  const api = import.meta.resolve('tsx/esm/api')
  const script =
    `import(${JSON.stringify(api)}).then(({ register }) => { register(); ` +
    `return import(${JSON.stringify(entry.href)}) })`
  return { filename: script, eval: true }
}
