import { InvalidOptionError } from '@clusterpool/protocol'
import test from 'ava'

import { ClusterExecutor } from '../src/index.js'
import { ExecutorEventSource } from '../src/cluster/executor-events.js'

// Each bad option is refused before any connection is attempted (port 1 has no listener), with
// a message that names it.
const cases: [Parameters<typeof ClusterExecutor.connect>[1], RegExp][] = [
  [{ keepAliveIntervalMs: -1 }, /options\.keepAliveIntervalMs .*milliseconds/],
  [{ keepAliveIntervalMs: Number.NaN }, /options\.keepAliveIntervalMs/],
  [{ connectTimeoutMs: 0 }, /options\.connectTimeoutMs .*milliseconds/],
  [{ connectTimeoutMs: 2 ** 40 }, /options\.connectTimeoutMs/],
  [{ maxPayload: 0 }, /options\.maxPayload .*bytes/],
]

for (const [options, named] of cases) {
  test(`connect refuses ${JSON.stringify(options)}`, async (t) => {
    const e = await t.throwsAsync(ClusterExecutor.connect('ws://127.0.0.1:1', options), {
      instanceOf: InvalidOptionError,
    })
    t.regex(e.message, named)
  })
}

test('connect refuses a URL that is not ws:// or wss://', async (t) => {
  const e = await t.throwsAsync(ClusterExecutor.connect('http://127.0.0.1:1'), {
    instanceOf: InvalidOptionError,
  })
  t.regex(e.message, /ws:\/\//)
})

test('on() with an event a cluster executor does not emit is refused, naming the ones it does', (t) => {
  const events = new ExecutorEventSource()
  const e = t.throws(() => events.on('reconect' as 'reconnected', () => {}), {
    instanceOf: InvalidOptionError,
  })
  t.regex(
    e.message,
    /unknown event "reconect"; a cluster executor emits disconnected and reconnected/,
  )
  t.throws(() => events.on('reconnected', 'not a function' as never), {
    instanceOf: InvalidOptionError,
  })
  t.notThrows(() => events.off('reconect' as 'reconnected', () => {}))
})
