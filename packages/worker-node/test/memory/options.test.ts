// Memory options: defaults, units, and the fractions that must rise.
import test from 'ava'

import { InvalidOptionError } from '@clusterpool/protocol'

import {
  MEMORY_DEFAULTS,
  hostMemoryBytes,
  resolveMemoryOptions,
} from '../../src/daemon/memory/options.js'

test('defaults: Dask fractions, 100 ms sampling, the host memory over hostWorkers', (t) => {
  const o = resolveMemoryOptions({ hostWorkers: 4 })
  t.is(o.memoryTargetFraction, 0.6)
  t.is(o.memorySpillFraction, 0.7)
  t.is(o.memoryPauseFraction, 0.8)
  t.is(o.memoryTerminateFraction, 0.95)
  t.is(o.memoryMonitorIntervalMs, 100)
  t.is(o.pausedRestartTimeoutMs, MEMORY_DEFAULTS.pausedRestartTimeoutMs)
  t.is(o.maxSpillBytes, Infinity)
  t.is(o.memoryLimitBytes, Math.floor(hostMemoryBytes() / 4))
  t.is(resolveMemoryOptions({ memoryLimitBytes: 4e8 }).memoryLimitBytes, 4e8)
})

test('fractions in the wrong order are refused at start, naming them all', (t) => {
  t.throws(() => resolveMemoryOptions({ memoryTargetFraction: 0.75 }), {
    instanceOf: InvalidOptionError,
    message:
      /memory fractions must rise: memoryTargetFraction \(0\.75\) ≤ memorySpillFraction \(0\.7\)/,
  })
  t.throws(() => resolveMemoryOptions({ memoryPauseFraction: 0.96 }), { message: /must rise/ })
  t.notThrows(() => resolveMemoryOptions({ memoryTargetFraction: 0.7, memorySpillFraction: 0.7 }))
})

test('each bad value names its option', (t) => {
  const bad: [object, RegExp][] = [
    [
      { memorySpillFraction: 1 },
      /memorySpillFraction must be a fraction above 0 and below 1, got 1/,
    ],
    [{ memoryTargetFraction: 0 }, /memoryTargetFraction must be a fraction/],
    [{ memoryLimitBytes: -1 }, /memoryLimitBytes must be a positive number of bytes/],
    [{ hostWorkers: 0 }, /hostWorkers must be a positive integer/],
    [{ maxSpillBytes: -5 }, /maxSpillBytes must be a number of bytes/],
    [{ localDirectory: '' }, /localDirectory must be a directory path/],
    [
      { memoryMonitorIntervalMs: 0 },
      /memoryMonitorIntervalMs must be a positive number of milliseconds/,
    ],
    [{ pausedRestartTimeoutMs: Number.NaN }, /pausedRestartTimeoutMs must be a positive/],
  ]
  for (const [o, message] of bad)
    t.throws(() => resolveMemoryOptions(o), { instanceOf: InvalidOptionError, message })
})
