// `clusterpool status`: prints a running coordinator's workers, tasks and throughput.
import type { ClusterStatus } from '@clusterpool/coordinator'
import { Command, Option } from 'commander'

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
      new Option('--watch <seconds>', 'refresh every N seconds').argParser(parseNonNegative),
    )
    .action(async (url: string, opts: { token?: string; json?: boolean; watch?: number }) => {
      const base = url.replace(/^ws(s?):/, 'http$1:').replace(/\/$/, '')
      // A reader that went away (`status --watch 2 | head`) ends the command quietly, as with
      // any Unix tool, instead of an unhandled EPIPE.
      process.stdout.on('error', (error: NodeJS.ErrnoException) => {
        if (error.code === 'EPIPE') process.exit(0)
        throw error
      })
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
  return program
}
