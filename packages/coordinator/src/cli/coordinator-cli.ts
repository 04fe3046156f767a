#!/usr/bin/env node
// clusterpool-coordinator: runs a coordinator, or prints a running one's status.
import { readFileSync } from 'node:fs'

import { CLUSTERPOOL_VERSION } from '@clusterpool/worker-node'
import { Command, Option } from 'commander'

import { Coordinator } from '../coordinator.js'
import type { ClusterStatus } from '../core/status.js'
import { COORDINATOR_DEFAULTS } from '../server/options.js'
import { formatStatus } from './status-table.js'

const program = new Command('clusterpool-coordinator')
  .description('Run a clusterpool coordinator: workers and clients connect to it over WebSocket.')
  .version(CLUSTERPOOL_VERSION)
  .addOption(
    new Option('--host <host>', 'interface to bind')
      .env('CLUSTERPOOL_HOST')
      .default(COORDINATOR_DEFAULTS.host),
  )
  .addOption(
    new Option('--port <port>', 'port for WebSocket and HTTP')
      .env('CLUSTERPOOL_PORT')
      .default(COORDINATOR_DEFAULTS.port)
      .argParser(port),
  )
  .addOption(
    new Option('--token <token>', 'shared secret for clients, workers and the dashboard').env(
      'CLUSTERPOOL_TOKEN',
    ),
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
    new Option('--insecure', 'allow a non-loopback --host without a token').env(
      'CLUSTERPOOL_INSECURE',
    ),
  )
  .addOption(
    new Option('--max-payload <bytes>', 'largest frame a peer may send')
      .env('CLUSTERPOOL_MAX_PAYLOAD')
      .argParser(Number),
  )
  .addOption(
    new Option(
      '--hold-results-over-bytes <bytes>',
      'keep larger results on their worker until awaited (default 65536)',
    )
      .env('CLUSTERPOOL_HOLD_RESULTS_OVER_BYTES')
      .argParser(Number),
  )
  .addOption(
    new Option('--worker-timeout-ms <ms>', 'remove a worker silent this long')
      .env('CLUSTERPOOL_WORKER_TIMEOUT_MS')
      .argParser(Number),
  )
  .addOption(
    new Option('--log-level <level>', 'fatal, error, warn, info, debug, trace or silent')
      .env('CLUSTERPOOL_LOG_LEVEL')
      .default('info'),
  )
  .action(async (opts: Record<string, string | number | boolean | undefined>) => {
    if ((opts.tlsCert === undefined) !== (opts.tlsKey === undefined))
      return program.error('error: --tls-cert and --tls-key go together')
    let coordinator: Coordinator
    try {
      coordinator = await Coordinator.start({
        host: String(opts.host),
        port: Number(opts.port),
        ...(opts.token === undefined ? {} : { token: String(opts.token) }),
        ...(opts.tlsCert === undefined
          ? {}
          : {
              tls: {
                cert: readFileSync(String(opts.tlsCert)),
                key: readFileSync(String(opts.tlsKey)),
              },
            }),
        ...(opts.insecure ? { insecure: true } : {}),
        ...(opts.maxPayload === undefined ? {} : { maxPayload: Number(opts.maxPayload) }),
        ...(opts.holdResultsOverBytes === undefined
          ? {}
          : { holdResultsOverBytes: Number(opts.holdResultsOverBytes) }),
        ...(opts.workerTimeoutMs === undefined
          ? {}
          : { workerTimeoutMs: Number(opts.workerTimeoutMs) }),
        logLevel: String(opts.logLevel) as 'info',
      })
    } catch (error) {
      return program.error(`error: ${(error as Error).message}`)
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

program
  .command('status')
  .description("print a running coordinator's workers, tasks and throughput")
  .argument(
    '[url]',
    'the coordinator, http(s)://host:8786 or ws(s)://host:8786',
    'http://127.0.0.1:8786',
  )
  .addOption(new Option('--token <token>', "the coordinator's token").env('CLUSTERPOOL_TOKEN'))
  .addOption(new Option('--json', 'print the raw JSON'))
  .addOption(new Option('--watch <seconds>', 'refresh every N seconds').argParser(Number))
  .action(async (url: string, opts: { token?: string; json?: boolean; watch?: number }) => {
    const base = url.replace(/^ws(s?):/, 'http$1:').replace(/\/$/, '')
    const show = async (): Promise<void> => {
      const res = await fetch(`${base}/api/status`, {
        headers: opts.token ? { authorization: `Bearer ${opts.token}` } : {},
      })
      if (res.status === 401)
        program.error(`error: ${base} refused the token (pass --token or CLUSTERPOOL_TOKEN)`)
      if (!res.ok) program.error(`error: ${base}/api/status answered HTTP ${res.status}`)
      const status = (await res.json()) as ClusterStatus
      if (opts.watch) process.stdout.write('\x1b[2J\x1b[H')
      console.log(opts.json ? JSON.stringify(status, null, 2) : formatStatus(status))
    }
    try {
      await show()
      while (opts.watch) {
        await new Promise((resolve) => setTimeout(resolve, opts.watch! * 1000))
        await show()
      }
    } catch (error) {
      program.error(`error: cannot reach ${base}: ${(error as Error).message}`)
    }
  })

function port(value: string): number {
  const n = Number(value)
  if (!Number.isInteger(n) || n < 0 || n > 65535)
    throw new Error(`expected a port from 0 to 65535, got "${value}"`)
  return n
}

await program.parseAsync()
