// The seed's power_calc experiment: tasks that sleep x/2 seconds and return x², run with
// 1, 2, 5, 7 and 10 workers. With 10 workers the ideal is the longest single sleep.
import { parseArgs } from 'node:util'

import { ThreadPoolExecutor, type Executor } from 'clusterpool'

export const VALUES = [1, 4, 3, 5, 6, 3, 7, 5, 8, 10]

/** x² after sleeping x/2 seconds × scale. Self-contained: it is shipped to the workers as source. */
const powerCalc = async (x: number, scale: number): Promise<number> => {
  await new Promise((resolve) => setTimeout(resolve, (x / 2) * 1000 * scale))
  return x * x
}

export async function powerCalcOn(
  ex: Executor,
  scale: number,
): Promise<{ results: number[]; ms: number }> {
  const t0 = performance.now()
  const results = await Promise.all(VALUES.map((x) => ex.submit(powerCalc, x, scale)))
  return { results, ms: performance.now() - t0 }
}

export async function powerCalcDemo(
  scale: number,
  makeExecutor: (workers: number) => Executor = (n) => new ThreadPoolExecutor({ maxWorkers: n }),
  workerCounts = [1, 2, 5, 7, 10],
  shutdown = true,
): Promise<void> {
  console.log(`power_calc: values ${JSON.stringify(VALUES)}, sleeps scaled by ${scale}`)
  console.log(
    `ideal with 10 workers: ${((Math.max(...VALUES) / 2) * scale).toFixed(2)} s (the longest sleep)`,
  )
  console.log('\n| Threads | Time (s) |\n| ---: | ---: |')
  for (const n of workerCounts) {
    const ex = makeExecutor(n)
    // Warm the workers up so the table measures the schedule, not process start-up.
    await Promise.all(Array.from({ length: n }, () => ex.submit(powerCalc, 0, 0)))
    const { results, ms } = await powerCalcOn(ex, scale)
    if (shutdown) await ex.shutdown()
    if (results.join() !== VALUES.map((x) => x * x).join())
      throw new Error('power_calc returned wrong results')
    console.log(`| ${n} | ${(ms / 1000).toFixed(2)} |`)
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({ options: { scale: { type: 'string', default: '1' } } })
  await powerCalcDemo(Number(values.scale))
}
