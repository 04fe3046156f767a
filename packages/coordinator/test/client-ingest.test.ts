import test from 'ava'

import type { ClientToCoordinator, SubmitTask } from '@clusterpool/protocol'

import { ClientIngest, IngestState, SLICE_ITEMS } from '../src/server/client-ingest.js'

const F = { kind: 'module', url: 'file:///t.js', exportName: 'f' } as const
const submit = (from: number, n: number): ClientToCoordinator => ({
  kind: 'submit',
  tasks: Array.from({ length: n }, (_, i): SubmitTask => ({
    id: from + i,
    fn: F,
    args: new Uint8Array(),
  })),
})
const ids = (slices: ClientToCoordinator[][]): number[] =>
  slices
    .flat()
    .flatMap((m) =>
      m.kind === 'submit'
        ? m.tasks.map((t) => t.id)
        : m.kind === 'release'
          ? m.ids.map((i) => -i)
          : [],
    )
const nextTurn = (): Promise<void> => new Promise((r) => setImmediate(r))

function recorder(budgetMs: number) {
  const slices: ClientToCoordinator[][] = []
  const events: string[] = []
  let closed = false
  const ingest = new ClientIngest(
    {
      handle: (messages) => slices.push([...messages]),
      closed: () => closed,
      pause: () => events.push('pause'),
      resume: () => events.push('resume'),
    },
    budgetMs,
  )
  return { ingest, slices, events, close: () => (closed = true) }
}

test('a burst is handed over in slices of at most SLICE_ITEMS, in order, yielding between them', async (t) => {
  const r = recorder(0)
  r.ingest.push([submit(1, 2500), { kind: 'release', ids: [7, 8] }, submit(2501, 10)])
  t.is(r.slices.length, 1, 'the first slice now, the rest on later turns')
  t.is(r.ingest.state, IngestState.YIELDING)
  t.deepEqual(r.events, ['pause'])
  // Frames that arrive meanwhile wait behind the burst.
  r.ingest.push([submit(9000, 1)])
  while (r.ingest.state !== IngestState.IDLE) await nextTurn()
  for (const slice of r.slices) {
    const items = slice.reduce((n, m) => n + (m.kind === 'submit' ? m.tasks.length : 1), 0)
    t.true(items <= SLICE_ITEMS)
  }
  const want = [
    ...Array.from({ length: 2500 }, (_, i) => i + 1),
    -7,
    -8,
    ...Array.from({ length: 10 }, (_, i) => 2501 + i),
    9000,
  ]
  t.deepEqual(ids(r.slices), want)
  t.deepEqual(r.events, ['pause', 'resume'], 'paused once, resumed once drained')
})

test('within its budget a burst is handled at once, as one slice per SLICE_ITEMS, without pausing', (t) => {
  const r = recorder(60_000)
  r.ingest.push([submit(1, 3000)])
  t.is(r.ingest.state, IngestState.IDLE)
  t.deepEqual(
    r.slices.map((s) => s.length),
    [1, 1, 1],
  )
  t.deepEqual(r.events, [])
})

test('a client closed for a violation, or gone, gets nothing more handled', async (t) => {
  const r = recorder(0)
  r.ingest.push([submit(1, 5000)])
  r.close()
  while (r.ingest.state === IngestState.YIELDING) await nextTurn()
  t.is(r.ingest.state, IngestState.CLOSED)
  t.is(r.slices.length, 1)
  const g = recorder(0)
  g.ingest.push([submit(1, 5000)])
  g.ingest.close()
  await nextTurn()
  g.ingest.push([submit(9, 1)])
  t.is(g.slices.length, 1)
  t.is(g.ingest.queued, 0)
})
