// The memory machine, driven by scripts of samples: each step feeds one sample and checks the
// state, the move and what it asks the daemon to do.
import test from 'ava'

import { InvalidStateError } from '@clusterpool/protocol'

import {
  MEMORY_TRANSITIONS,
  MIN_CHILD_SHARE_BYTES,
  MemoryMachine,
  MemoryState,
  type MemorySample,
} from '../../src/daemon/memory/memory-state.js'
import { resolveMemoryOptions } from '../../src/daemon/memory/options.js'

const MB = 1e6
const LIMIT = 1000 * MB // target 600, spill 700, pause 800, terminate 950 (MB)

function machine(extra = {}, procs = 2): MemoryMachine {
  return new MemoryMachine(
    resolveMemoryOptions({ memoryLimitBytes: LIMIT, pausedRestartTimeoutMs: 1000, ...extra }),
    procs,
  )
}

/** A sample: `daemon` and `children` RSS, `managed` held in memory (all spillable). MB. */
function sample(
  nowMs: number,
  daemon: number,
  children: number[],
  managed: number,
  extra: Partial<MemorySample> = {},
): MemorySample {
  return {
    nowMs,
    daemonRssBytes: daemon * MB,
    childRssBytes: children.map((c) => c * MB),
    managedBytes: managed * MB,
    spillableBytes: managed * MB,
    spillingBytes: 0,
    diskFull: false,
    ...extra,
  }
}

test('under the target nothing happens; each process gets terminate × limit less the daemon, in equal shares', (t) => {
  const m = machine()
  const d = m.observe(sample(0, 200, [50, 50], 100))
  t.is(d.state, MemoryState.OK)
  t.is(d.moved, undefined)
  t.is(d.spillBytes, 0)
  t.is(d.rssBytes, 300 * MB)
  t.is(d.childShareBytes, Math.floor((950 * MB - 200 * MB) / 2))
  // Each may use what the other leaves: 750 − 50 = 700 MB.
  t.deepEqual(d.childAllowanceBytes, [700 * MB, 700 * MB])
  t.false(d.restartChildren)
  t.false(m.paused)
})

test('managed memory over the target spills the excess; back under, it settles', (t) => {
  const m = machine()
  let d = m.observe(sample(0, 700, [], 650)) // RSS 700 is not over 700: only managed counts
  t.is(d.moved, 'spill')
  t.is(d.state, MemoryState.SPILLING)
  t.is(d.spillBytes, 50 * MB)
  // While those 50 MB are being written, nothing more is asked for.
  d = m.observe(sample(100, 700, [], 650, { spillableBytes: 600 * MB, spillingBytes: 50 * MB }))
  t.is(d.spillBytes, 0)
  t.is(d.moved, undefined)
  d = m.observe(sample(200, 650, [], 600))
  t.is(d.moved, 'settle')
  t.is(d.state, MemoryState.OK)
})

test('RSS over the spill fraction spills until RSS would be under the target, as far as there is data', (t) => {
  const m = machine()
  let d = m.observe(sample(0, 450, [300], 100)) // RSS 750 > 700; 150 over target, 100 spillable
  t.is(d.moved, 'spill')
  t.is(d.spillBytes, 100 * MB)
  d = m.observe(sample(100, 420, [300], 0))
  t.is(d.spillBytes, 0, 'nothing left to spill')
  t.is(d.state, MemoryState.SPILLING, 'still over the spill fraction')
})

test('past the pause fraction it pauses straight from ok (no jump past pause), and resumes under the target', (t) => {
  const m = machine()
  let d = m.observe(sample(0, 500, [350], 300))
  t.is(d.moved, 'pause')
  t.true(m.paused)
  t.true(d.spillBytes > 0, 'and spills at the same time')
  d = m.observe(sample(100, 450, [300], 250))
  t.is(d.moved, undefined, 'under pause but over the target, with data to spill: still paused')
  d = m.observe(sample(200, 400, [150], 50))
  t.is(d.moved, 'resume')
  t.is(d.state, MemoryState.OK)
})

test('paused with everything spilled resumes under the spill fraction: unmanaged memory does not shrink by waiting', (t) => {
  const m = machine()
  m.observe(sample(0, 500, [350], 300))
  const d = m.observe(sample(100, 400, [290], 0))
  t.is(d.moved, 'resume')
})

test('stuck paused past pausedRestartTimeoutMs with nothing to spill restarts the task processes, then waits paused again', (t) => {
  const m = machine()
  m.observe(sample(0, 300, [600], 0)) // a process holds the memory, not the daemon's data
  t.true(m.paused)
  let d = m.observe(sample(999, 300, [600], 0))
  t.false(d.restartChildren, 'not before the timeout')
  d = m.observe(sample(1000, 300, [600], 0))
  t.is(d.moved, 'restart')
  t.true(d.restartChildren)
  t.is(d.state, MemoryState.RESTARTING)
  t.true(m.paused)
  m.restarted(1100)
  t.is(m.state, MemoryState.PAUSED)
  d = m.observe(sample(1200, 300, [60], 0))
  t.is(d.moved, 'resume')
})

test('not restarted while there is still data to spill', (t) => {
  const m = machine()
  m.observe(sample(0, 500, [350], 300, { spillableBytes: 300 * MB }))
  const d = m.observe(
    sample(5000, 500, [350], 300, { spillingBytes: 100 * MB, spillableBytes: 200 * MB }),
  )
  t.false(d.restartChildren)
})

test('a full disk stops spilling and pauses while managed memory is over the target', (t) => {
  const m = machine()
  let d = m.observe(sample(0, 700, [], 650, { diskFull: true }))
  t.is(d.moved, 'pause')
  t.is(d.spillBytes, 0)
  d = m.observe(sample(100, 400, [], 650, { diskFull: true }))
  t.is(d.moved, undefined, 'RSS is low, but the data cannot go anywhere')
  d = m.observe(sample(200, 400, [], 300, { diskFull: false }))
  t.is(d.moved, 'resume')
})

test('a daemon over the budget leaves each process at least MIN_CHILD_SHARE_BYTES', (t) => {
  const m = machine({}, 4)
  const d = m.observe(sample(0, 990, [], 0))
  t.is(d.childShareBytes, MIN_CHILD_SHARE_BYTES)
})

test('transition table: exactly these moves are legal, and an illegal one throws', (t) => {
  const moves: Record<keyof typeof MEMORY_TRANSITIONS, [string[], string]> = {
    spill: [['ok'], 'spilling'],
    settle: [['spilling'], 'ok'],
    pause: [['ok', 'spilling'], 'paused'],
    resume: [['paused'], 'ok'],
    restart: [['paused'], 'restarting'],
    restarted: [['restarting'], 'paused'],
  }
  for (const [name, rule] of Object.entries(MEMORY_TRANSITIONS)) {
    const [from, to] = moves[name as keyof typeof MEMORY_TRANSITIONS]
    t.deepEqual([...rule.from].sort(), [...from].sort(), name)
    t.is<string, string>(rule.to, to, name)
  }
  t.throws(() => machine().restarted(0), {
    instanceOf: InvalidStateError,
    message: /restarted from ok/,
  })
})

test('paused, with managed memory back within the target and RSS under the spill fraction, it resumes', (t) => {
  const m = machine()
  m.observe(sample(0, 500, [350], 300))
  // 650 MB: over the 600 MB target, but under the 700 MB spill fraction, with 100 MB managed.
  const d = m.observe(sample(100, 550, [100], 100))
  t.is(d.moved, 'resume')
})

test('a busy process next to an idle one may use what the idle one leaves, never less than an equal share', (t) => {
  const m = machine()
  // Budget for the processes: 950 − 200 = 750 MB. The busy one is at 500, the idle one at 50:
  // the busy one may grow to 700, the idle one keeps its equal share, 375.
  const d = m.observe(sample(0, 200, [500, 50], 100))
  t.deepEqual(d.childAllowanceBytes, [700 * MB, 375 * MB])
  t.is(d.childShareBytes, 375 * MB)
  // Both busy: each still keeps its equal share, whatever the other uses.
  const both = m.observe(sample(100, 200, [600, 500], 100))
  t.deepEqual(both.childAllowanceBytes, [375 * MB, 375 * MB])
})
