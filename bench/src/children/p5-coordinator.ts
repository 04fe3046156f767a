// P5 helper process: a LocalCluster (coordinator in this process + `workers` worker daemons).
// Talks to the bench over IPC: sends `{ url, token }` once started (or `{ error }`), answers
// `{ cmd: 'mem' }` with its memory after a full GC, and `{ cmd: 'close' }` by closing and exiting.
// Run with --expose-gc so the figures are not inflated by garbage.
import { loadLocalCluster, type LocalClusterLike } from '../scenarios/cluster.js'

const workers = Number(process.argv[2] ?? 0)

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
  cluster = await loaded.LocalCluster.start({ workers, procs: 1, workerOutput: 'ignore' })
  send({ url: cluster.url, token: cluster.token ?? null, memory: memory() })
} catch (error) {
  send({
    error: `LocalCluster.start({ workers: ${workers}, procs: 1 }) failed: ${(error as Error).message}`,
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
