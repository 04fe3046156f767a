// The seed's cpu_heavy experiment: four loops of 1e8 iterations, run serially, on a thread
// pool and on a process pool, with each task's start and finish drawn as a timeline.
import { ProcessPoolExecutor, ThreadPoolExecutor, task, type Executor } from 'clusterpool'

import { cpuHeavy } from './tasks.js'
import { timeline, type Span } from './timeline.js'

const heavy = task<[number], ReturnType<typeof cpuHeavy>>(
  new URL('./tasks.js', import.meta.url),
  'cpuHeavy',
)

export async function runOn(name: string, ex: Executor, n: number, calls: number): Promise<number> {
  // Warm up: start the workers and load the task module, so the chart shows the work alone.
  await Promise.all(Array.from({ length: calls }, () => ex.submit(heavy, 1)))
  const t0 = Date.now()
  const results = await Promise.all(Array.from({ length: calls }, () => ex.submit(heavy, n)))
  const elapsed = Date.now() - t0
  const spans: Span[] = results.map((r, i) => ({
    label: `task ${i} (pid ${r.pid})`,
    startMs: r.startMs,
    endMs: r.endMs,
  }))
  console.log(`\n${name}: ${elapsed} ms\n${timeline(spans)}`)
  return elapsed
}

export async function cpuHeavyDemo(n = 1e8, calls = 4): Promise<void> {
  console.log(`cpu_heavy: ${calls} loops of ${n.toExponential()} iterations`)
  const t0 = Date.now()
  const spans: Span[] = []
  for (let i = 0; i < calls; i++) {
    const r = cpuHeavy(n)
    spans.push({ label: `task ${i} (pid ${r.pid})`, startMs: r.startMs, endMs: r.endMs })
  }
  const serial = Date.now() - t0
  console.log(`\nserial: ${serial} ms\n${timeline(spans)}`)
  {
    await using threads = new ThreadPoolExecutor({ maxWorkers: calls })
    const t = await runOn(`ThreadPoolExecutor(${calls})`, threads, n, calls)
    console.log(`speedup over serial: ${(serial / t).toFixed(2)}×`)
  }
  {
    await using procs = new ProcessPoolExecutor({ maxWorkers: calls })
    const t = await runOn(`ProcessPoolExecutor(${calls})`, procs, n, calls)
    console.log(`speedup over serial: ${(serial / t).toFixed(2)}×`)
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await cpuHeavyDemo()
