// `clusterpool coordinator`: runs a coordinator that workers and clients connect to.

import { COORDINATOR_DEFAULTS, Coordinator } from '@clusterpool/coordinator'
import { Command, Option } from 'commander'
import {
  envFlag,
  inFlagTerms,
  LOG_LEVELS,
  parseNonNegative,
  parsePort,
  readFlagFile,
} from './parse.js'

export function coordinatorCommand(): Command {
  const program: Command = new Command('coordinator')
    .description('Run a clusterpool coordinator: workers and clients connect to it over WebSocket.')
    .addOption(
      new Option('--host <host>', 'interface to bind')
        .env('CLUSTERPOOL_HOST')
        .default(COORDINATOR_DEFAULTS.host),
    )
    .addOption(
      new Option('--port <port>', 'port for WebSocket and HTTP')
        .env('CLUSTERPOOL_PORT')
        .default(COORDINATOR_DEFAULTS.port)
        .argParser(parsePort),
    )
    .addOption(
      new Option(
        '--token <token>',
        'shared secret for clients, workers and the dashboard (each role may have its own, below)',
      ).env('CLUSTERPOOL_TOKEN'),
    )
    .addOption(
      new Option(
        '--worker-token <token>',
        'secret for workers only (default: --token); a client presenting it is refused',
      ).env('CLUSTERPOOL_WORKER_TOKEN'),
    )
    .addOption(
      new Option(
        '--client-token <token>',
        'secret for clients and the dashboard (default: --token); a worker presenting it is refused',
      ).env('CLUSTERPOOL_CLIENT_TOKEN'),
    )
    .addOption(
      new Option('--tls-cert <file>', 'PEM certificate: serve wss:// and https://').env(
        'CLUSTERPOOL_TLS_CERT',
      ),
    )
    .addOption(
      new Option('--tls-key <file>', 'PEM private key for --tls-cert').env('CLUSTERPOOL_TLS_KEY'),
    )
    .addOption(
      new Option(
        '--insecure',
        'allow a non-loopback --host without a token (env CLUSTERPOOL_INSECURE=1)',
      ),
    )
    .addOption(
      new Option('--max-payload <bytes>', 'largest frame a peer may send')
        .env('CLUSTERPOOL_MAX_PAYLOAD')
        .argParser(parseNonNegative),
    )
    .addOption(
      new Option(
        '--hold-results-over-bytes <bytes>',
        'keep larger results on their worker until awaited (default 65536)',
      )
        .env('CLUSTERPOOL_HOLD_RESULTS_OVER_BYTES')
        .argParser(parseNonNegative),
    )
    .addOption(
      new Option(
        '--max-client-held-bytes <bytes>',
        "stop reading a client whose live tasks' arguments pass this (default 1 GiB)",
      )
        .env('CLUSTERPOOL_MAX_CLIENT_HELD_BYTES')
        .argParser(parseNonNegative),
    )
    .addOption(
      new Option(
        '--max-descendants <n>',
        'most tasks one root task may have below it, through tasks that submit tasks (default 100000)',
      )
        .env('CLUSTERPOOL_MAX_DESCENDANTS')
        .argParser(parseNonNegative),
    )
    .addOption(
      new Option('--worker-timeout-ms <ms>', 'remove a worker silent this long')
        .env('CLUSTERPOOL_WORKER_TIMEOUT_MS')
        .argParser(parseNonNegative),
    )
    .addOption(
      new Option(
        '--unschedulable-timeout-ms <ms>',
        'fail a task no connected worker can run (its resources, workers) with NoWorkerError after this long; 0: at once (default: wait for such a worker to join)',
      )
        .env('CLUSTERPOOL_UNSCHEDULABLE_TIMEOUT_MS')
        .argParser(parseNonNegative),
    )
    .addOption(
      new Option(
        '--resume-grace-ms <ms>',
        'after a restart, how long kept tasks and values wait to be claimed (default 10000)',
      )
        .env('CLUSTERPOOL_RESUME_GRACE_MS')
        .argParser(parseNonNegative),
    )
    .addOption(
      new Option('--log-level <level>', 'fatal, error, warn, info, debug, trace or silent')
        .choices(LOG_LEVELS)
        .env('CLUSTERPOOL_LOG_LEVEL')
        .default('info'),
    )
    .action(async (opts: Record<string, string | number | boolean | undefined>) => {
      if ((opts.tlsCert === undefined) !== (opts.tlsKey === undefined))
        return program.error('error: --tls-cert and --tls-key go together')
      let insecure = opts.insecure === true
      try {
        insecure ||= envFlag('CLUSTERPOOL_INSECURE')
      } catch (error) {
        return program.error(`error: ${(error as Error).message}`)
      }
      let coordinator: Coordinator
      try {
        coordinator = await Coordinator.start({
          host: String(opts.host),
          port: Number(opts.port),
          ...(opts.token === undefined ? {} : { token: String(opts.token) }),
          ...(opts.workerToken === undefined ? {} : { workerToken: String(opts.workerToken) }),
          ...(opts.clientToken === undefined ? {} : { clientToken: String(opts.clientToken) }),
          ...(opts.tlsCert === undefined
            ? {}
            : {
                tls: {
                  cert: readFlagFile('--tls-cert', String(opts.tlsCert)),
                  key: readFlagFile('--tls-key', String(opts.tlsKey)),
                },
              }),
          ...(insecure ? { insecure: true } : {}),
          ...(opts.maxPayload === undefined ? {} : { maxPayload: Number(opts.maxPayload) }),
          ...(opts.maxClientHeldBytes === undefined
            ? {}
            : { maxClientHeldBytes: Number(opts.maxClientHeldBytes) }),
          ...(opts.maxDescendants === undefined
            ? {}
            : { maxDescendants: Number(opts.maxDescendants) }),
          ...(opts.holdResultsOverBytes === undefined
            ? {}
            : { holdResultsOverBytes: Number(opts.holdResultsOverBytes) }),
          ...(opts.workerTimeoutMs === undefined
            ? {}
            : { workerTimeoutMs: Number(opts.workerTimeoutMs) }),
          ...(opts.resumeGraceMs === undefined
            ? {}
            : { resumeGraceMs: Number(opts.resumeGraceMs) }),
          ...(opts.unschedulableTimeoutMs === undefined
            ? {}
            : { scheduler: { noWorkerTimeoutMs: Number(opts.unschedulableTimeoutMs) } }),
          logLevel: String(opts.logLevel) as 'info',
        })
      } catch (error) {
        const flags = program.options.map((o) => o.long ?? '')
        return program.error(`error: ${inFlagTerms((error as Error).message, flags)}`)
      }
      // A line for people and for scripts that wait for readiness.
      console.log(
        `clusterpool coordinator listening on ${coordinator.url} (status: ${coordinator.httpUrl}/api/status)`,
      )
      for (const signal of ['SIGTERM', 'SIGINT'] as const) {
        process.once(signal, () => {
          void coordinator.close().then(() => process.exit(0))
        })
      }
    })
  return program
}
