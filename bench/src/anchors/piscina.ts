// Anchor: piscina 5 with 2 threads, in this process. P1 round trip (sequential `run`), P2
// throughput (`run` per task, then `Promise.all`).
import { Piscina } from 'piscina'

import { addRoundTrip, guarded, throughputSeries, type Ctx } from '../harness/measure.js'

export const PISCINA = 'piscina 5, 2 threads'

export async function piscinaAnchor(ctx: Ctx): Promise<void> {
  const { config } = ctx
  const pool = new Piscina<number, number>({
    filename: new URL('./piscina-task.ts', import.meta.url).href,
    minThreads: 2,
    maxThreads: 2,
    // Worker threads inherit process.execArgv, so `--import=tsx` loads the .ts task file.
  })
  try {
    if (config.only.has('P1')) {
      await guarded(ctx, 'P1', PISCINA, 120_000, async () => {
        await addRoundTrip(ctx, PISCINA, 'anchor', async (i) => {
          if ((await pool.run(i)) !== i + 1) throw new Error('piscina returned a wrong result')
        })
      })
    }
    if (config.only.has('P2')) {
      await throughputSeries(ctx, {
        scenario: 'P2',
        system: PISCINA,
        family: 'anchor',
        method: 'submit-all',
        ns: config.ns,
        run: async (n) => {
          const all = new Array<Promise<number>>(n)
          for (let i = 0; i < n; i++) all[i] = pool.run(i)
          const values = await Promise.all(all)
          let sum = 0
          for (const v of values) sum += v
          if (sum !== (n * (n + 1)) / 2) throw new Error('piscina returned wrong results')
        },
      })
    }
  } finally {
    await pool.destroy()
  }
}
