// P7, hostile and lying peers. A real coordinator (in this process) with two worker daemons; an
// honest client runs checked tasks while authenticated hostile clients send mutated frames and
// lying workers report on tasks they were never given. Reported: the worst and p99 event-loop
// delay of the coordinator's process (issue 15's goal: under 50 ms), honest results that came out
// wrong (must be 0), the coordinator's RSS growth and the size of /api/status. The peers are the
// live fuzz test's (test/helpers/hostile.ts), loaded at run time so both measure the same thing.
import type { Ctx } from '../harness/measure.js'
import { median } from '../harness/stats.js'
import { errorText } from '../harness/timeout.js'

// The helper's own types, so the two cannot drift; the module itself loads at run time.
import type { hostileRun as HostileRunFn } from '../../../test/helpers/hostile.js'

type HostileRun = typeof HostileRunFn
type HostileOutcome = Awaited<ReturnType<HostileRun>>

const HOSTILE = new URL('../../../test/helpers/hostile.ts', import.meta.url).href
const SYSTEM = 'clusterpool LocalCluster 2×1 under hostile peers'

export async function hostilePeers(ctx: Ctx): Promise<void> {
  const { config, results } = ctx
  let hostileRun: HostileRun
  try {
    ;({ hostileRun } = (await import(HOSTILE)) as { hostileRun: HostileRun })
  } catch (error) {
    results.skip({
      scenario: 'P7',
      system: SYSTEM,
      reason: `the hostile peers did not load: ${errorText(error)}`,
    })
    return
  }
  const { LocalCluster } = await import('clusterpool')
  const frames = config.quick ? 1000 : 5000
  const outcomes: HostileOutcome[] = []
  for (let run = 0; run < config.runs; run++) {
    const cluster = await LocalCluster.start({
      workers: 2,
      procs: 1,
      workerOutput: 'ignore',
      coordinator: { logLevel: 'silent' },
    })
    try {
      outcomes.push(
        await hostileRun(cluster, {
          clientFrames: frames,
          workerFrames: frames / 2,
          seed: 1000 + run,
        }),
      )
    } catch (error) {
      results.fail({ scenario: 'P7', system: SYSTEM, error: errorText(error) })
      return
    } finally {
      await cluster.close()
    }
  }
  const add = (metric: string, unit: string, values: number[], note?: string): void =>
    results.add({
      scenario: 'P7',
      system: SYSTEM,
      family: 'clusterpool',
      method: `${frames} client + ${frames / 2} worker frames`,
      metric,
      unit,
      better: 'lower',
      median: median(values),
      runs: values,
      ...(note === undefined ? {} : { note }),
    })
  add(
    'worst event-loop delay',
    'ms',
    outcomes.map((o) => o.maxLagMs),
    'goal: under 50 ms',
  )
  add(
    'p99 event-loop delay',
    'ms',
    outcomes.map((o) => o.p99LagMs),
  )
  add(
    'honest results wrong',
    'results',
    outcomes.map((o) => o.wrong),
    `of ${outcomes.map((o) => o.checked).join(', ')} checked; workers alive and a fresh client served in ` +
      `${outcomes.filter((o) => o.workersAlive && o.freshClientWorks).length} of ${outcomes.length} runs`,
  )
  add(
    'RSS growth',
    'MiB',
    outcomes.map((o) => o.rssGrowthMiB),
  )
  add(
    '/api/status size',
    'bytes',
    outcomes.map((o) => o.statusBytes),
  )
}
