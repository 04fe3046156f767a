import test from 'ava'
import fc from 'fast-check'

import { DeadlockError, WaitForGraph } from '../src/index.js'

test('an edge that closes a cycle is refused with a DeadlockError naming the cycle; the graph is unchanged', (t) => {
  const g = new WaitForGraph()
  g.add('a', 'waitOnB')
  g.add('b', 'waitOnA')
  t.is(g.addEdge('b', 'a', 'dependency'), undefined)
  const error = g.addEdge('a', 'b', 'await')
  t.true(error instanceof DeadlockError)
  t.is(error?.code, 'CP_ERR_DEADLOCK')
  t.deepEqual(
    error?.cycle.map((c) => c.key),
    ['a', 'b'],
  )
  t.deepEqual(error?.edges, ['await', 'dependency'])
  t.regex(
    error?.message ?? '',
    /waitOnB \(a\) would await waitOnA \(b\), which depends on waitOnB \(a\)/,
  )
  t.false(g.hasEdge('a', 'b'), 'the refused edge was not added')
  t.true(g.hasEdge('b', 'a'))
})

test('a three-task cycle through both kinds of edge', (t) => {
  const g = new WaitForGraph()
  for (const k of ['a', 'b', 'c']) g.add(k, k.toUpperCase())
  t.is(g.addEdge('c', 'a', 'dependency'), undefined)
  t.is(g.addEdge('b', 'c', 'dependency'), undefined)
  const error = g.addEdge('a', 'b', 'await')
  t.deepEqual(
    error?.cycle.map((c) => c.key),
    ['a', 'b', 'c'],
  )
  t.deepEqual(error?.edges, ['await', 'dependency', 'dependency'])
})

test('a task awaiting itself is a cycle of one', (t) => {
  const g = new WaitForGraph()
  g.add('a', 'A')
  const error = g.addEdge('a', 'a', 'await')
  t.is(error?.cycle.length, 1)
  t.regex(error?.message ?? '', /its own future/)
})

test('removing a finished task removes its edges: the same wait is then fine', (t) => {
  const g = new WaitForGraph()
  for (const k of ['a', 'b', 'c']) g.add(k, k)
  g.addEdge('b', 'c', 'await')
  g.addEdge('c', 'a', 'dependency')
  t.truthy(g.addEdge('a', 'b', 'await'))
  g.remove('c')
  t.is(g.addEdge('a', 'b', 'await'), undefined)
  t.is(g.size, 2)
  t.is(g.addEdge('a', 'gone', 'await'), undefined, 'an edge to a finished task is ignored')
})

test('a cycle of 100k waiting tasks is found, and named, without a stack overflow', (t) => {
  const g = new WaitForGraph()
  const n = 100_000
  for (let i = 0; i < n; i++) g.add(`t${i}`, 'link')
  // Each awaits the next, added from the far end so that every edge disagrees with the order.
  for (let i = n - 2; i >= 0; i--) t.is(g.addEdge(`t${i}`, `t${i + 1}`, 'await'), undefined)
  const error = g.addEdge(`t${n - 1}`, 't0', 'await')
  t.is(error?.cycle.length, n)
  t.is(error?.cycle[0]?.key, `t${n - 1}`)
})

test('on a 100k-task tree of waits, a new child and its await cost a few microseconds', (t) => {
  const g = new WaitForGraph()
  // A tree of awaits, branching 10: 111,111 tasks.
  let next = 0
  const levels: string[][] = [[`n${next++}`]]
  g.add(levels[0]![0]!, 'root')
  for (let d = 1; d <= 5; d++) {
    const level: string[] = []
    for (const parent of levels[d - 1]!) {
      for (let k = 0; k < 10; k++) {
        const key = `n${next++}`
        g.add(key, 'node')
        t.is(g.addEdge(parent, key, 'await'), undefined)
        level.push(key)
      }
    }
    levels.push(level)
  }
  t.true(g.size > 100_000)
  const leaves = levels[5]!
  const started = process.hrtime.bigint()
  const rounds = 10_000
  for (let i = 0; i < rounds; i++) {
    const leaf = leaves[i % leaves.length]!
    const child = `c${i}`
    g.add(child, 'child')
    g.addEdge(child, leaf, 'dependency') // the child takes its parent's future as an argument
    g.addEdge(leaf, child, 'await') // and the parent awaits it: a deadlock every time
    g.remove(child)
  }
  const perRoundUs = Number(process.hrtime.bigint() - started) / 1000 / rounds
  t.log(`${perRoundUs.toFixed(2)} µs per add + dependency + await (deadlock found) + remove`)
  const plain = process.hrtime.bigint()
  for (let i = 0; i < rounds; i++) {
    const leaf = leaves[i % leaves.length]!
    const child = `d${i}`
    g.add(child, 'child')
    t.is(g.addEdge(leaf, child, 'await'), undefined)
    g.remove(child)
  }
  const plainUs = Number(process.hrtime.bigint() - plain) / 1000 / rounds
  t.log(`${plainUs.toFixed(2)} µs per add + await (no cycle) + remove`)
})

test('property: the graph refuses exactly the edges that close a cycle', (t) => {
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.integer({ min: 0, max: 7 }), fc.integer({ min: 0, max: 7 })), {
        maxLength: 40,
      }),
      (edges) => {
        const g = new WaitForGraph()
        const adj = new Map<number, Set<number>>()
        for (let i = 0; i < 8; i++) {
          g.add(String(i), String(i))
          adj.set(i, new Set())
        }
        const reaches = (from: number, to: number): boolean => {
          const seen = new Set<number>()
          const stack = [from]
          while (stack.length > 0) {
            const n = stack.pop()!
            if (n === to) return true
            if (seen.has(n)) continue
            seen.add(n)
            for (const m of adj.get(n)!) stack.push(m)
          }
          return false
        }
        for (const [a, b] of edges) {
          const closes = a === b || reaches(b, a)
          const error = g.addEdge(String(a), String(b), 'await')
          if (closes !== (error !== undefined)) return false
          if (error !== undefined) {
            // The cycle it names is a real one, starting with the new edge.
            const keys = error.cycle.map((c) => Number(c.key))
            if (keys[0] !== a || (keys.length > 1 && keys[1] !== b)) return false
            for (let i = 1; i < keys.length; i++) {
              const from = keys[i]!
              const to = keys[(i + 1) % keys.length]!
              if (!adj.get(from)!.has(to)) return false
            }
          } else {
            adj.get(a)!.add(b)
          }
        }
        return true
      },
    ),
  )
  t.pass()
})
