// `clusterpool worker URL`: joins a coordinator and runs its tasks on a local process pool.

import {
  WARM_UP,
  parseBytes,
  parseResources,
  type WarmUp,
  type WorkerDaemonOptions,
} from '@clusterpool/worker-node'
import { Command, Option } from 'commander'
import { destination, pino } from 'pino'
import { WorkerDaemon } from '../worker-daemon.js'
import {
  inFlagTerms,
  LOG_LEVELS,
  parseNonNegative,
  parsePositiveInt,
  readFlagFile,
} from './parse.js'

/** The memory flags given, as `MemoryOptions` (validated, with the rest, by the daemon). */
function memoryFlags(opts: Record<string, string | number | undefined>): MemoryFlags {
  const out: MemoryFlags = {}
  const num = (v: string | number | undefined): number | undefined =>
    v === undefined ? undefined : Number(v)
  const set = <K extends keyof MemoryFlags>(k: K, v: MemoryFlags[K] | undefined): void => {
    if (v !== undefined) out[k] = v
  }
  set('hostWorkers', num(opts.hostWorkers))
  set('memoryTargetFraction', num(opts.memoryTarget))
  set('memorySpillFraction', num(opts.memorySpill))
  set('memoryPauseFraction', num(opts.memoryPause))
  set('memoryTerminateFraction', num(opts.memoryTerminate))
  set('localDirectory', opts.localDirectory === undefined ? undefined : String(opts.localDirectory))
  set(
    'maxSpillBytes',
    opts.maxSpill === undefined ? undefined : parseBytes(String(opts.maxSpill), '--max-spill'),
  )
  set('pausedRestartTimeoutMs', num(opts.pausedRestartTimeoutMs))
  set('memoryMonitorIntervalMs', num(opts.memoryMonitorIntervalMs))
  return out
}

type MemoryFlags = Partial<Omit<WorkerDaemonOptions, 'coordinatorUrl'>>

export function workerCommand(): Command {
  const program: Command = new Command('worker')
    .description('Join a clusterpool coordinator and run its tasks on a local process pool.')
    .argument(
      '[coordinator-url]',
      'the coordinator, ws://host:8786 or wss://host:8786 (env CLUSTERPOOL_COORDINATOR)',
    )
    .addOption(
      new Option('--procs <n>', 'task processes (default: CPU count)')
        .env('CLUSTERPOOL_PROCS')
        .argParser(parsePositiveInt),
    )
    .addOption(
      new Option('--name <name>', 'worker name (default: <hostname>-<pid>)').env(
        'CLUSTERPOOL_WORKER_NAME',
      ),
    )
    .addOption(
      new Option(
        '--resources <list>',
        'resources offered, KEY=N,... (example: GPU=2,MEM=16e9)',
      ).env('CLUSTERPOOL_RESOURCES'),
    )
    .addOption(
      new Option('--token <token>', "the coordinator's worker token (or its shared token)").env(
        'CLUSTERPOOL_TOKEN',
      ),
    )
    .addOption(
      new Option('--ca <file>', 'PEM file of CA certificates to trust for wss://').env(
        'CLUSTERPOOL_CA',
      ),
    )
    .addOption(
      new Option(
        '--memory-limit <size>',
        'memory budget (RSS) of this daemon and its task processes together, e.g. 4GB ' +
          '(default: the host or cgroup memory divided by --host-workers)',
      ).env('CLUSTERPOOL_MEMORY_LIMIT'),
    )
    .addOption(
      new Option(
        '--host-workers <n>',
        'workers sharing this host, for the default --memory-limit (default 1)',
      )
        .env('CLUSTERPOOL_HOST_WORKERS')
        .argParser(parsePositiveInt),
    )
    .addOption(
      new Option(
        '--memory-target <fraction>',
        'spill held values to disk past this fraction of the limit (default 0.6)',
      )
        .env('CLUSTERPOOL_MEMORY_TARGET')
        .argParser(parseNonNegative),
    )
    .addOption(
      new Option(
        '--memory-spill <fraction>',
        'spill until RSS is under the target past this fraction of RSS (default 0.7)',
      )
        .env('CLUSTERPOOL_MEMORY_SPILL')
        .argParser(parseNonNegative),
    )
    .addOption(
      new Option(
        '--memory-pause <fraction>',
        'take no new tasks past this fraction of RSS, until under the target (default 0.8)',
      )
        .env('CLUSTERPOOL_MEMORY_PAUSE')
        .argParser(parseNonNegative),
    )
    .addOption(
      new Option(
        '--memory-terminate <fraction>',
        'task processes together get this fraction less the daemon; one past its share is killed (default 0.95)',
      )
        .env('CLUSTERPOOL_MEMORY_TERMINATE')
        .argParser(parseNonNegative),
    )
    .addOption(
      new Option(
        '--local-directory <dir>',
        'where spill files go, in a fresh folder removed on exit (default: the OS temp dir)',
      ).env('CLUSTERPOOL_LOCAL_DIRECTORY'),
    )
    .addOption(
      new Option(
        '--max-spill <size>',
        'most bytes spilled to disk at once; past it the worker pauses (default: no cap)',
      ).env('CLUSTERPOOL_MAX_SPILL'),
    )
    .addOption(
      new Option(
        '--paused-restart-timeout-ms <ms>',
        'paused this long with nothing to spill: restart the task processes (default 30000)',
      )
        .env('CLUSTERPOOL_PAUSED_RESTART_TIMEOUT_MS')
        .argParser(parsePositiveInt),
    )
    .addOption(
      new Option('--memory-monitor-interval-ms <ms>', 'how often RSS is sampled (default 100)')
        .env('CLUSTERPOOL_MEMORY_MONITOR_INTERVAL_MS')
        .argParser(parsePositiveInt),
    )
    .addOption(
      new Option('--log-level <level>', 'fatal, error, warn, info, debug, trace or silent')
        .choices(LOG_LEVELS)
        .env('CLUSTERPOOL_LOG_LEVEL')
        .default('info'),
    )
    .addOption(
      new Option('--drain-timeout-ms <ms>', 'on SIGTERM, wait this long for running tasks')
        .env('CLUSTERPOOL_DRAIN_TIMEOUT_MS')
        .argParser(parsePositiveInt),
    )
    .addOption(
      new Option(
        '--max-waiting-per-proc <n>',
        'tasks that may wait for their children at once in one task process (default 64)',
      )
        .env('CLUSTERPOOL_MAX_WAITING_PER_PROC')
        .argParser(parsePositiveInt),
    )
    .addOption(
      new Option(
        '--warm-up <when>',
        'when the task processes start: while-registering (default), before-registering or lazy (on the first tasks)',
      )
        .env('CLUSTERPOOL_WARM_UP')
        .choices(WARM_UP),
    )
    .action(async (url: string | undefined, opts: Record<string, string | number | undefined>) => {
      const coordinatorUrl = url ?? process.env.CLUSTERPOOL_COORDINATOR
      if (!coordinatorUrl)
        return program.error('error: missing coordinator URL (argument or CLUSTERPOOL_COORDINATOR)')
      let daemon: WorkerDaemon
      try {
        daemon = new WorkerDaemon(
          {
            coordinatorUrl,
            ...(opts.procs === undefined ? {} : { procs: opts.procs as number }),
            ...(opts.name === undefined ? {} : { name: String(opts.name) }),
            ...(opts.resources === undefined
              ? {}
              : { resources: parseResources(String(opts.resources)) }),
            ...(opts.token === undefined ? {} : { token: String(opts.token) }),
            ...(opts.ca === undefined ? {} : { ca: readFlagFile('--ca', String(opts.ca)) }),
            ...(opts.memoryLimit === undefined
              ? {}
              : { memoryLimitBytes: parseBytes(String(opts.memoryLimit)) }),
            ...memoryFlags(opts),
            ...(opts.drainTimeoutMs === undefined
              ? {}
              : { drainTimeoutMs: opts.drainTimeoutMs as number }),
            ...(opts.maxWaitingPerProc === undefined
              ? {}
              : { maxWaitingPerProc: opts.maxWaitingPerProc as number }),
            ...(opts.warmUp === undefined ? {} : { warmUp: opts.warmUp as WarmUp }),
          },
          pino({ name: 'clusterpool-worker', level: String(opts.logLevel) }, destination(2)),
        )
      } catch (error) {
        const flags = program.options.map((o) => o.long ?? '')
        return program.error(`error: ${inFlagTerms((error as Error).message, flags, WORKER_FLAGS)}`)
      }
      for (const signal of ['SIGTERM', 'SIGINT'] as const) {
        process.on(signal, () => {
          daemon.log.info({ signal }, 'signal received')
          void daemon.drain()
        })
      }
      // Started by a LocalCluster: stop with the program that started it, even if it died
      // without stopping its workers.
      if (process.env.CLUSTERPOOL_EXIT_WITH_PARENT === '1') {
        const parent = process.ppid
        setInterval(() => {
          if (process.ppid !== parent) {
            daemon.log.warn('the process that started this worker is gone; stopping')
            void daemon.drain()
          }
        }, 1000).unref()
      }
      process.exitCode = await daemon.run()
      // Exit even if a task left handles open in this process (it should not, but be sure).
      setTimeout(() => process.exit(), 100).unref()
    })
  return program
}

/** The worker's API option names that its flags spell otherwise. */
const WORKER_FLAGS: Readonly<Record<string, string>> = {
  memoryLimitBytes: '--memory-limit',
  memoryTargetFraction: '--memory-target',
  memorySpillFraction: '--memory-spill',
  memoryPauseFraction: '--memory-pause',
  memoryTerminateFraction: '--memory-terminate',
  maxSpillBytes: '--max-spill',
  localDirectory: '--local-directory',
}
