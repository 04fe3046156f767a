// `clusterpool status`: prints a running coordinator's workers, tasks and throughput.
import type { ClusterStatus } from '@clusterpool/coordinator'
import { Command, InvalidArgumentError, Option } from 'commander'

import { formatStatus } from './status-table.js'
import { parseNonNegative } from './parse.js'

export function statusCommand(): Command {
  const program: Command = new Command('status')
    .description("print a running coordinator's workers, tasks and throughput")
    .argument(
      '[url]',
      'the coordinator, http(s)://host:8786 or ws(s)://host:8786',
      'http://127.0.0.1:8786',
    )
    .addOption(new Option('--token <token>', "the coordinator's token").env('CLUSTERPOOL_TOKEN'))
    .addOption(new Option('--json', 'print the raw JSON'))
    .addOption(
      new Option(
        '--watch <seconds>',
        'refresh every N seconds, riding out a coordinator that is down (with --json: one JSON object per line)',
      ).argParser(parsePositiveSeconds),
    )
    .action(async (url: string, opts: { token?: string; json?: boolean; watch?: number }) => {
      const base = url.replace(/^ws(s?):/, 'http$1:').replace(/\/$/, '')
      // A reader that went away (`status --watch 2 | head`) ends the command quietly, as with
      // any Unix tool, instead of an unhandled EPIPE.
      process.stdout.on('error', (error: NodeJS.ErrnoException) => {
        if (error.code === 'EPIPE') process.exit(0)
        throw error
      })
      const fetchStatus = async (): Promise<ClusterStatus> => {
        let res: Response
        try {
          res = await fetch(`${base}/api/status`, {
            headers: opts.token ? { authorization: `Bearer ${opts.token}` } : {},
            // A frozen coordinator accepts the connection and never answers.
            signal: AbortSignal.timeout(FETCH_TIMEOUT_MS),
          })
        } catch (error) {
          throw new Unreachable(`cannot reach ${base}: ${(error as Error).message}`)
        }
        // Neither fixes itself: a watch ends on them too.
        if (res.status === 401)
          program.error(`error: ${base} refused the token (pass --token or CLUSTERPOOL_TOKEN)`)
        if (res.status === 404)
          program.error(`error: ${base} has no /api/status: not a coordinator?`)
        if (!res.ok) throw new Unreachable(`${base}/api/status answered HTTP ${res.status}`)
        try {
          return (await res.json()) as ClusterStatus
        } catch (error) {
          throw new Unreachable(`${base}/api/status sent no JSON: ${(error as Error).message}`)
        }
      }
      if (opts.watch === undefined) {
        let status: ClusterStatus
        try {
          status = await fetchStatus()
        } catch (error) {
          return program.error(`error: ${(error as Error).message}`)
        }
        console.log(opts.json ? JSON.stringify(status, null, 2) : formatStatus(status))
        return
      }
      // A terminal gets a fresh screen each time; a pipe gets plain lines.
      const clear = process.stdout.isTTY && !opts.json ? '\x1b[2J\x1b[H' : ''
      for (;;) {
        try {
          const status = await fetchStatus()
          process.stdout.write(
            opts.json ? `${JSON.stringify(status)}\n` : `${clear}${formatStatus(status)}\n`,
          )
        } catch (error) {
          if (!(error instanceof Unreachable)) throw error
          // The coordinator may be restarting: say so, and try again at the next refresh.
          process.stderr.write(`${new Date().toISOString()} ${error.message}; retrying\n`)
        }
        await new Promise((resolve) => setTimeout(resolve, opts.watch! * 1000))
      }
    })
  return program
}

/** The coordinator could not be asked now (down, restarting, or answering with an error). */
class Unreachable extends Error {}

/** How long one status request may take. Milliseconds. */
const FETCH_TIMEOUT_MS = 10_000

/** The longest `--watch` interval: a day (timers do not go past about 24.8 days). Seconds. */
const MAX_WATCH_SECONDS = 86_400

function parsePositiveSeconds(value: string): number {
  const n = parseNonNegative(value)
  if (n === 0 || n > MAX_WATCH_SECONDS)
    throw new InvalidArgumentError(
      `expected seconds > 0 and ≤ ${MAX_WATCH_SECONDS}, got "${value}"`,
    )
  return n
}
