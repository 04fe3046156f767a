// What a ClusterExecutor sends again after a reconnect (`Resubmits`), and its link's state
// machine: pure, through a recording sink.
import {
  InvalidStateError,
  type ClientToCoordinator,
  type FnRef,
  type SubmitTask,
  type WireFnRef,
} from '@clusterpool/protocol'
import type { ItemOf, ItemsKey, MessageSink, OfKind } from '@clusterpool/transport'
import test from 'ava'

import { backoffMs, LinkState, nextLinkState } from '../src/cluster/link-state.js'
import { Resubmits, type ReplayContext } from '../src/cluster/resubmits.js'
import { Future } from '../src/future/future.js'

/** Records what is pushed, one `[kind, item]` per item. */
class Sink implements MessageSink<ClientToCoordinator> {
  readonly closed = false
  readonly items: [string, unknown][] = []
  send(message: ClientToCoordinator): void {
    this.items.push([message.kind, message])
  }
  pushItem<
    K extends ClientToCoordinator['kind'],
    F extends ItemsKey<OfKind<ClientToCoordinator, K>>,
  >(kind: K, _field: F, item: ItemOf<OfKind<ClientToCoordinator, K>, F>): void {
    this.items.push([kind, item])
  }
  flush(): void {}
  close(): void {}
}

const REF: FnRef = { kind: 'source', hash: 'h1', source: '(x) => x', name: 'f' }
const ARGS = Uint8Array.of(0x90)

function submit(id: number, deps?: number[]): SubmitTask {
  return {
    id,
    fn: { kind: 'source', hash: 'h1', name: 'f' }, // sent without its source the first time round
    args: ARGS,
    ...(deps ? { deps } : {}),
  }
}

function context(ids: Map<Future<unknown>, number>, failed: [number, Error][] = []): ReplayContext {
  const sent = new Set<string>()
  return {
    idOf: (f) => ids.get(f),
    wireFn: (ref): WireFnRef => {
      if (ref.kind === 'module' || !sent.has(ref.hash)) {
        if (ref.kind === 'source') sent.add(ref.hash)
        return ref
      }
      return { kind: 'source', hash: ref.hash, name: ref.name }
    },
    encode: (value) => Uint8Array.of(0xa1, String(value).charCodeAt(0)),
    fail: (id, error) => failed.push([id, error]),
  }
}

/** The executor's unfinished futures by id, in id order, and its id of each. */
class Futures {
  readonly byId = new Map<number, Future<unknown>>()
  readonly ids = new Map<Future<unknown>, number>()
  add(id: number, future = new Future<unknown>()): Future<unknown> {
    this.byId.set(id, future)
    this.ids.set(future, id)
    return future
  }
}

test('replay: unfinished tasks again, in id order, the source with the first, `ran` where announced', (t) => {
  const r = new Resubmits()
  const futures = new Futures()
  const a = futures.add(1)
  r.submitted(a, submit(1), REF, undefined)
  r.submitted(futures.add(2), submit(2, [1]), REF, [a])
  const c = futures.add(3)
  r.submitted(c, submit(3), REF, undefined)
  futures.add(4) // a held value gathered again: unfinished, nothing to send again
  r.ran(a)
  r.settled(c)
  futures.byId.delete(3)
  t.is(r.size, 2)
  const sink = new Sink()
  t.is(r.replay(sink, futures.byId, new Set(), context(futures.ids)), 2)
  t.deepEqual(sink.items, [
    ['submit', { ...submit(1), fn: REF, ran: true }],
    ['submit', { ...submit(2, [1]), fn: { kind: 'source', hash: 'h1', name: 'f' } }],
  ])
  t.is(r.size, 2, 'kept until they settle: another outage sends them again')
})

test('replay: a finished dependency is scattered again and released; a claimed one is left alone', (t) => {
  const r = new Resubmits()
  const done = new Future<unknown>()
  done.setResult('v')
  const heldDep = new Future<unknown>()
  const ids = new Map<Future<unknown>, number>([
    [done, 4],
    [heldDep, 5],
  ])
  const dependent = new Future<unknown>()
  r.submitted(dependent, submit(6, [4, 5]), REF, [done, heldDep])
  const sink = new Sink()
  r.replay(sink, new Map([[6, dependent]]), new Set([5]), context(ids))
  t.deepEqual(
    sink.items.map(([kind, item]) => [kind, (item as { id?: number }).id ?? item]),
    [
      ['scatter', 4],
      ['submit', 6],
      ['release', 4],
    ],
  )
})

test('replay: a dependency that failed meanwhile fails the dependent here, which is not sent', (t) => {
  const r = new Resubmits()
  const bad = new Future<unknown>()
  bad.setException(new Error('boom'))
  const failed: [number, Error][] = []
  const dependent = new Future<unknown>()
  r.submitted(dependent, submit(8, [7]), REF, [bad])
  const sink = new Sink()
  const unfinished = new Map([[8, dependent]])
  t.is(r.replay(sink, unfinished, new Set(), context(new Map([[bad, 7]]), failed)), 0)
  t.deepEqual(sink.items, [])
  t.is(failed[0]?.[0], 8)
  t.like(failed[0]?.[1], { name: 'DependencyError', code: 'CP_ERR_DEPENDENCY_FAILED' })
  t.is(r.size, 0)
})

test('replay: an unanswered scatter goes out again', (t) => {
  const r = new Resubmits()
  const scattered = new Future<unknown>()
  r.scattered(scattered, { id: 9, value: ARGS })
  const sink = new Sink()
  t.is(r.replay(sink, new Map([[9, scattered]]), new Set(), context(new Map())), 1)
  t.deepEqual(sink.items, [['scatter', { id: 9, value: ARGS }]])
})

test('the link state machine: only its named moves', (t) => {
  let s: LinkState = LinkState.CONNECTED
  s = nextLinkState(s, 'drop')
  t.is(s, LinkState.RECONNECTING)
  s = nextLinkState(s, 'resume')
  t.is(s, LinkState.CONNECTED)
  t.is(nextLinkState(nextLinkState(s, 'drop'), 'give-up'), LinkState.BROKEN)
  t.is(nextLinkState(s, 'close'), LinkState.CLOSED)
  t.throws(() => nextLinkState(LinkState.BROKEN, 'resume'), { instanceOf: InvalidStateError })
  t.throws(() => nextLinkState(LinkState.CONNECTED, 'give-up'), { instanceOf: InvalidStateError })
})

test('backoff doubles from 100 ms to a 2 s cap, jittered to half of it at least', (t) => {
  t.deepEqual(
    [1, 2, 3, 4, 5, 6, 20].map((n) => backoffMs(n, () => 1)),
    [100, 200, 400, 800, 1600, 2000, 2000],
  )
  t.deepEqual(
    [1, 6].map((n) => backoffMs(n, () => 0)),
    [50, 1000],
  )
})
