import type { ChildProcess } from 'node:child_process'

/**
 * Child processes still alive when this process exits are killed, so that none outlives it
 * even when the pool was never closed. One `exit` listener serves every pool.
 */
const live = new Set<ChildProcess>()
let installed = false

function killAll(): void {
  for (const child of live) {
    try {
      child.kill('SIGKILL')
    } catch {
      // Already gone.
    }
  }
  live.clear()
}

export function trackChild(child: ChildProcess): void {
  if (!installed) {
    installed = true
    process.on('exit', killAll)
  }
  live.add(child)
}

export function untrackChild(child: ChildProcess): void {
  live.delete(child)
}
