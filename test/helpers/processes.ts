// Process helpers: find the processes this test process started, and check none outlive a test.
import { readFileSync, readdirSync } from 'node:fs'

/**
 * Pids of every live descendant of `root` (default: this process), read from /proc. Leaves out
 * tsx's esbuild service, which the test process itself runs to compile TypeScript.
 */
export function descendants(root = process.pid): number[] {
  const children = new Map<number, number[]>()
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    const ppid = parentOf(Number(entry))
    if (ppid === undefined) continue
    const list = children.get(ppid) ?? []
    list.push(Number(entry))
    children.set(ppid, list)
  }
  const out: number[] = []
  const stack = [root]
  while (stack.length > 0) {
    for (const child of children.get(stack.pop()!) ?? []) {
      if (isAlive(child) && !isEsbuildService(child)) out.push(child)
      stack.push(child)
    }
  }
  return out
}

function parentOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // pid (comm) state ppid …; comm may hold spaces or parentheses: split after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return Number(fields[1])
  } catch {
    return undefined
  }
}

/** True while `pid` exists and is not a zombie. */
export function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z'
  } catch {
    return false
  }
}

/** Children of `pid` (direct only). */
export function childrenOf(pid: number): number[] {
  return descendants(pid).filter((p) => parentOf(p) === pid)
}

/**
 * Polls `condition` every `intervalMs` until it is true; throws after `timeoutMs`, saying what it
 * waited for (`what`, or what `what()` says then: the state that explains the timeout).
 */
export async function waitFor(
  condition: () => boolean | Promise<boolean>,
  what: string | (() => string),
  timeoutMs = 30_000,
  intervalMs = 20,
): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await condition())) {
    if (Date.now() > deadline)
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${typeof what === 'string' ? what : what()}`,
      )
    await sleep(intervalMs)
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

/**
 * Waits until every pid in `pids` is gone (a pool may take a moment to reap its children after
 * shutdown resolves); returns those still alive after `timeoutMs`.
 */
export async function leftAlive(pids: number[], timeoutMs = 10_000): Promise<number[]> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const alive = pids.filter(isAlive)
    if (alive.length === 0 || Date.now() > deadline) return alive
    await sleep(50)
  }
}

/** `pid (ppid N): command line`, for messages about leaked processes. */
export function describeProcess(pid: number): string {
  try {
    const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim()
    return `${pid} (ppid ${parentOf(pid) ?? '?'}): ${cmd}`
  } catch {
    return `${pid}: gone`
  }
}

function isEsbuildService(pid: number): boolean {
  try {
    return /esbuild\0--service=/.test(readFileSync(`/proc/${pid}/cmdline`, 'utf8'))
  } catch {
    return false
  }
}
