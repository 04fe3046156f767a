// `npm start`: an embedded cluster on this host (a coordinator and two worker daemons), the
// seed experiments run on it through ClusterExecutor, and the local pools for comparison.
// `npm start -- --keep` leaves the cluster and its dashboard running.
import { parseArgs } from 'node:util'

import { task, type Executor, LocalCluster } from 'clusterpool'
import { SingleBar } from 'cli-progress'

import { cpuHeavyDemo, runOn } from './cpu-heavy.js'
import { deadlockDemo, localDeadlockDemo } from './deadlocks.js'
import { powerCalcDemo } from './power-calc.js'
import { urlLoaderDemo } from './url-loader.js'

const { values } = parseArgs({
  options: {
    keep: { type: 'boolean', default: false },
    workers: { type: 'string', default: '2' },
    procs: { type: 'string', default: '1' },
  },
})

const heading = (text: string): void =>
  console.log(`\n━━ ${text} ${'━'.repeat(Math.max(0, 70 - text.length))}`)

heading('local pools: the seed cpu_heavy experiment')
await cpuHeavyDemo(1e8, 4)

heading('local pools: the seed power_calc experiment on ThreadPoolExecutor (sleeps scaled by 0.2)')
await powerCalcDemo(0.2)

heading('local pools: tasks that submit tasks (the seed deadlocks, ported)')
await localDeadlockDemo()

heading(`starting a local cluster: ${values.workers} worker daemons × ${values.procs} process`)
const cluster = await LocalCluster.start({
  workers: Number(values.workers),
  procs: Number(values.procs),
})
const dashboard = `${cluster.httpUrl}/?token=${cluster.token}`
console.log(`coordinator: ${cluster.url}`)
console.log(`dashboard:   ${dashboard}`)
const ex = await cluster.connect({ name: 'npm-start' })

try {
  heading('cluster: cpu_heavy, 4 loops of 1e8 on the worker daemons')
  await runOn(`ClusterExecutor (${values.workers}×${values.procs})`, ex, 1e8, 4)

  heading('cluster: the I/O-bound URL loader, as completed')
  await urlLoaderDemo(ex)

  heading('cluster: power_calc (sleeps scaled by 0.2)')
  await powerCalcDemo(0.2, () => ex, [Number(values.workers) * Number(values.procs)], false)

  heading('cluster: tasks that submit tasks (the seed deadlocks, ported)')
  await deadlockDemo('ClusterExecutor', ex)

  heading('cluster: 100,000 tiny tasks through map(), with a progress bar')
  await throughputDemo(ex, 100_000)

  heading('the cluster now')
  const status = cluster.coordinator.status()
  for (const w of status.workers) {
    console.log(
      `${w.name.padEnd(10)} pid ${String(w.pid).padEnd(7)} procs ${w.procs}  done ${String(w.done).padStart(7)}  failed ${w.failed}`,
    )
  }
  console.log(
    `tasks: submitted ${status.totals.submitted}, finished ${status.totals.finished}, erred ${status.totals.erred}`,
  )
  console.log(`status:  ${cluster.httpUrl}/api/status (token required)`)
  console.log(`metrics: ${cluster.httpUrl}/metrics`)
} finally {
  await ex.shutdown()
  if (values.keep) {
    console.log(`\nthe cluster keeps running (Ctrl-C to stop). dashboard: ${dashboard}`)
    console.log(`more workers: npx clusterpool worker ${cluster.url} --token ${cluster.token}`)
    process.once('SIGINT', () => void cluster.close().then(() => process.exit(0)))
  } else {
    await cluster.close()
  }
}

async function throughputDemo(ex: Executor, n: number): Promise<void> {
  const bar = new SingleBar({
    format: '  {bar} {percentage}% | {value}/{total} tasks | {rate} tasks/s',
    hideCursor: true,
    barsize: 40,
  })
  const increment = task((x: number) => x + 1)
  const t0 = performance.now()
  bar.start(n, 0, { rate: 0 })
  let done = 0
  let sum = 0
  for await (const r of ex.map(increment, range(n), { chunksize: 64 })) {
    sum += r
    if (++done % 2000 === 0 || done === n) {
      bar.update(done, { rate: Math.round(done / ((performance.now() - t0) / 1000)) })
    }
  }
  bar.stop()
  const s = (performance.now() - t0) / 1000
  if (sum !== (n * (n + 1)) / 2) throw new Error(`wrong sum ${sum}`)
  console.log(`  ${n} tasks in ${s.toFixed(2)} s: ${Math.round(n / s)} tasks/s, results checked`)
}

function* range(n: number): Generator<number> {
  for (let i = 0; i < n; i++) yield i
}
