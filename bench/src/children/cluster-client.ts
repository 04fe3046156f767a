// P1/P2 helper process: the client as a user runs it, a program of its own that connects with
// `ClusterExecutor.connect(url, { token })`. Measures in this process and prints one JSON object
// per line: `{ type: 'measurement' | 'skip' | 'fail', record }` as figures are made, or, for a
// fresh cluster, `{ type: 'first', samples }` (every round trip, in order).
// Usage: node --expose-gc --import=tsx cluster-client.ts <url> <token|-> <warm|fresh> <system> [bench options]
//   warm:  a warm-up, then the P1/P2 figures the bench options select (same sizes and runs)
//   fresh: the first round trips right after connecting, no warm-up
import { parseConfig } from '../harness/config.js'
import { Results, type Failure, type Measurement, type Skip } from '../harness/result.js'
import { connectTo } from '../scenarios/cluster.js'
import { firstRoundTrips, measureExecutor } from '../scenarios/p1-p2.js'
import { shutdownQuietly, warmUp } from '../scenarios/systems.js'

/** Results that also go to stdout as they come, so a child killed half-way keeps its figures. */
class EmittedResults extends Results {
  override add(m: Measurement): void {
    super.add(m)
    emit({ type: 'measurement', record: m })
  }

  override skip(s: Skip): void {
    super.skip(s)
    emit({ type: 'skip', record: s })
  }

  override fail(f: Failure): void {
    super.fail(f)
    emit({ type: 'fail', record: f })
  }
}

function emit(line: object): void {
  process.stdout.write(`${JSON.stringify(line)}\n`)
}

const [url, token, mode, system, ...options] = process.argv.slice(2)
if (mode !== 'warm' && mode !== 'fresh') throw new Error(`mode must be warm or fresh, got ${mode}`)
const config = parseConfig(options)
const executor = await connectTo(url!, token && token !== '-' ? token : undefined)
try {
  if (mode === 'fresh') {
    emit({ type: 'first', samples: await firstRoundTrips(executor, config.firstRoundTrips) })
  } else {
    await warmUp(executor, 2)
    await measureExecutor({ config, results: new EmittedResults() }, system!, executor)
  }
} finally {
  await shutdownQuietly(executor)
}
process.exit(0)
