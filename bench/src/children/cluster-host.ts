// A LocalCluster in a process of its own (coordinator in this process + `workers` worker daemons
// of `procs` each), so that the bench's own process neither warms it up nor slows it down (P1's
// fresh clusters, P2's own-process client, P5).
// Talks to the bench over IPC: sends `{ url, token, startMs }` once started (or `{ error }`), answers
// `{ cmd: 'mem' }` with its memory after a full GC, and `{ cmd: 'close' }` by closing and exiting.
// Run with --expose-gc so the figures are not inflated by garbage.
// Usage: node --expose-gc --import=tsx cluster-host.ts <workers> [procs]
import { loadLocalCluster, type LocalClusterLike } from '../scenarios/cluster.js'

const workers = Number(process.argv[2] ?? 0)
const procs = Number(process.argv[3] ?? 1)

function send(message: object): void {
  process.send?.(message)
}

function memory(): NodeJS.MemoryUsage {
  const gc = (globalThis as { gc?: () => void }).gc
  gc?.()
  gc?.()
  return process.memoryUsage()
}

let cluster: LocalClusterLike | undefined
const loaded = await loadLocalCluster()
if ('reason' in loaded) {
  send({ error: loaded.reason })
  process.exit(0)
}
try {
  const t0 = performance.now()
  cluster = await loaded.LocalCluster.start({ workers, procs, workerOutput: 'ignore' })
  const startMs = performance.now() - t0
  send({ url: cluster.url, token: cluster.token ?? null, startMs, memory: memory() })
} catch (error) {
  send({
    error: `LocalCluster.start({ workers: ${workers}, procs: ${procs} }) failed: ${(error as Error).message}`,
  })
  process.exit(0)
}

process.on('message', (m: { cmd?: string }) => {
  if (m.cmd === 'mem') send({ memory: memory() })
  if (m.cmd === 'close') {
    void (async () => {
      try {
        await cluster?.close()
      } finally {
        process.exit(0)
      }
    })()
  }
})
process.on('disconnect', () => process.exit(0))
