// Starts a LocalCluster quietly: real worker daemon processes over loopback WebSocket.
import { LocalCluster, type LocalClusterOptions } from 'clusterpool'

export async function startCluster(options: LocalClusterOptions = {}): Promise<LocalCluster> {
  return LocalCluster.start({
    workers: 2,
    procs: 1,
    workerOutput: 'ignore',
    startTimeoutMs: 60_000,
    ...options,
    coordinator: { logLevel: 'silent', ...options.coordinator },
  })
}
