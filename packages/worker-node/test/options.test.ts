import { InvalidOptionError } from '@clusterpool/protocol'
import test from 'ava'

import { parseBytes, parseResources, resolveWorkerDaemonOptions } from '../src/index.js'

test('parseBytes reads SI and binary units and plain numbers', (t) => {
  t.is(parseBytes('4GB'), 4e9)
  t.is(parseBytes('512MiB'), 512 * 2 ** 20)
  t.is(parseBytes('2e9'), 2e9)
  t.is(parseBytes(' 10 kb '), 10_000)
})

test('parseBytes names the flag and the bad text', (t) => {
  for (const bad of ['', 'lots', '-1GB', '4XB', '0']) {
    const e = t.throws(() => parseBytes(bad), { instanceOf: InvalidOptionError })
    t.regex(e.message, /--memory-limit/)
  }
})

test('parseResources reads KEY=N lists and refuses anything else', (t) => {
  t.deepEqual(parseResources('GPU=2,MEM=16e9'), { GPU: 2, MEM: 16e9 })
  t.deepEqual(parseResources(''), {})
  for (const bad of ['GPU', 'GPU=0', 'GPU=-1', '=2', 'GPU=two']) {
    const e = t.throws(() => parseResources(bad), { instanceOf: InvalidOptionError })
    t.regex(e.message, /--resources/)
  }
})

test('resolveWorkerDaemonOptions fills defaults and names the bad option', (t) => {
  const o = resolveWorkerDaemonOptions({ coordinatorUrl: 'ws://h:8786', procs: 3 })
  t.is(o.procs, 3)
  t.is(o.drainTimeoutMs, 30_000)
  t.is(o.reconnectInitialDelayMs, 200)
  t.deepEqual(o.resources, {})
  t.is(o.warmUp, 'while-registering')
  t.is(resolveWorkerDaemonOptions({ coordinatorUrl: 'ws://h', warmUp: 'lazy' }).warmUp, 'lazy')
  const cases: [Parameters<typeof resolveWorkerDaemonOptions>[0], RegExp][] = [
    [{ coordinatorUrl: 'http://h:8786' }, /coordinatorUrl/],
    [{ coordinatorUrl: 'ws://h', procs: 0 }, /procs/],
    [{ coordinatorUrl: 'ws://h', resources: { GPU: 0 } }, /resources\.GPU/],
    [{ coordinatorUrl: 'ws://h', memoryLimitBytes: -1 }, /memoryLimitBytes/],
    [{ coordinatorUrl: 'ws://h', drainTimeoutMs: 0 }, /drainTimeoutMs/],
    [{ coordinatorUrl: 'ws://h', warmUp: true as unknown as 'lazy' }, /warmUp/],
  ]
  for (const [bad, named] of cases) {
    const e = t.throws(() => resolveWorkerDaemonOptions(bad), { instanceOf: InvalidOptionError })
    t.regex(e.message, named)
  }
})
