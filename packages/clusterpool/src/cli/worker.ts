// `clusterpool worker URL`: joins a coordinator and runs its tasks on a local process pool.
import { readFileSync } from 'node:fs'

import { parseBytes, parseResources } from '@clusterpool/worker-node'
import { Command, Option } from 'commander'
import { destination, pino } from 'pino'
import { WorkerDaemon } from '../worker-daemon.js'
import { parsePositiveInt } from './parse.js'

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
        'memory for all task processes, e.g. 4GB (split as per-process heap limits)',
      ).env('CLUSTERPOOL_MEMORY_LIMIT'),
    )
    .addOption(
      new Option('--log-level <level>', 'fatal, error, warn, info, debug, trace or silent')
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
            ...(opts.ca === undefined ? {} : { ca: readFileSync(String(opts.ca)) }),
            ...(opts.memoryLimit === undefined
              ? {}
              : { memoryLimitBytes: parseBytes(String(opts.memoryLimit)) }),
            ...(opts.drainTimeoutMs === undefined
              ? {}
              : { drainTimeoutMs: opts.drainTimeoutMs as number }),
            ...(opts.maxWaitingPerProc === undefined
              ? {}
              : { maxWaitingPerProc: opts.maxWaitingPerProc as number }),
          },
          pino({ name: 'clusterpool-worker', level: String(opts.logLevel) }, destination(2)),
        )
      } catch (error) {
        return program.error(`error: ${(error as Error).message}`)
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
