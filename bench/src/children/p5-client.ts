// P5 helper process: a client that runs a `map` of N no-op items through the cluster at `url`
// and reports its own peak RSS growth (sampled every 20 ms) as one JSON line.
// Usage: node --expose-gc --import=tsx p5-client.ts <url> <token|-> <N>
import { connectTo } from '../scenarios/cluster.js'
import { inc, range } from '../scenarios/systems.js'

const [url, token, nText] = process.argv.slice(2)
const n = Number(nText)
const gc = (globalThis as { gc?: () => void }).gc

const executor = await connectTo(url!, token && token !== '-' ? token : undefined)
await Promise.all([1, 2, 3, 4].map((i) => executor.submit(inc, i)))
gc?.()
const base = process.memoryUsage()
let peakRss = base.rss
let peakHeap = base.heapUsed
const sampler = setInterval(() => {
  const m = process.memoryUsage()
  peakRss = Math.max(peakRss, m.rss)
  peakHeap = Math.max(peakHeap, m.heapUsed)
}, 20)
const t0 = performance.now()
let sum = 0
for await (const r of executor.map(inc, range(n), { chunksize: 100 })) sum += r
const elapsedMs = performance.now() - t0
clearInterval(sampler)
const end = process.memoryUsage()
peakRss = Math.max(peakRss, end.rss)
process.stdout.write(
  `${JSON.stringify({
    ok: sum === (n * (n + 1)) / 2,
    n,
    elapsedMs,
    baseRss: base.rss,
    peakRssDelta: peakRss - base.rss,
    peakHeapDelta: peakHeap - base.heapUsed,
  })}\n`,
)
await executor.shutdown()
process.exit(0)
