// TaskPool with real child processes and worker threads: results, errors, batching, caching,
// module tasks. Every test runs for both kinds.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'

import test from 'ava'

import { PoolHarness, errorOf, valueOf } from './fixtures/pool-harness.js'

const KINDS = ['process', 'thread'] as const
const tsTasks = new URL('./fixtures/pool-tasks-ts.ts', import.meta.url)

// A plain JavaScript module, outside any package, written for this run.
const jsDir = mkdtempSync(join(tmpdir(), 'clusterpool-pool-'))
const jsTasks = pathToFileURL(join(jsDir, 'pool-tasks.mjs'))
writeFileSync(
  jsTasks,
  `export function add(a, b) { return a + b }
export async function slowDouble(x, ms) {
  await new Promise((r) => setTimeout(r, ms))
  return x * 2
}
export const notAFunction = 42
export default function defaultTask(x) { return 'default ' + x }
`,
)
test.after.always(() => rmSync(jsDir, { recursive: true, force: true }))

for (const kind of KINDS) {
  test.serial(`${kind}: env reaches the child`, async (t) => {
    const h = new PoolHarness({ kind, maxWorkers: 1, env: { CLUSTERPOOL_POOL_TEST: 'yes' } })
    t.is(valueOf(await h.run(() => process.env.CLUSTERPOOL_POOL_TEST).outcome), 'yes')
    await h.pool.close()
  })

  test.serial(`${kind}: a no-op task round trip`, async (t) => {
    const h = new PoolHarness({ kind, maxWorkers: 1 })
    const { outcome } = h.run((x: number) => x + 1, [41])
    t.is(valueOf(await outcome), 42)
    // Warm: a second one, and it is the same child.
    t.is(valueOf(await h.run((x: number) => x + 1, [1]).outcome), 2)
    t.is(h.internals().spawned, 1)
    await h.pool.close()
    t.deepEqual(h.violations, [])
    t.like(h.pool.stats, { queued: 0, inFlight: 0, workers: 0, completed: 2, failed: 0 })
  })

  test.serial(`${kind}: 10,000 tasks, none lost or duplicated, batched`, async (t) => {
    const h = new PoolHarness({ kind, maxWorkers: 2 })
    const n = 10_000
    const runs = Array.from({ length: n }, (_, i) => h.run((x: number) => x * 2, [i]))
    const values = await Promise.all(runs.map(async (r) => valueOf(await r.outcome)))
    t.deepEqual(
      values,
      Array.from({ length: n }, (_, i) => i * 2),
    )
    t.is(h.starts.length, n)
    t.is(new Set(h.starts).size, n)
    const { batchesSent, batchesReceived } = h.internals()
    // One task per message would take n batches each way; batching takes far fewer.
    t.true(batchesSent < n / 4, `batchesSent ${batchesSent}`)
    t.true(batchesReceived < n / 4, `batchesReceived ${batchesReceived}`)
    t.true(h.internals().spawned <= 2)
    await h.pool.close()
    t.deepEqual(h.violations, [])
    t.like(h.pool.stats, { completed: n, failed: 0 })
  })

  test.serial(`${kind}: a function's source is compiled once per child`, async (t) => {
    const h = new PoolHarness({ kind, maxWorkers: 1 })
    // A named function expression sees itself: its own property counts its calls.
    const counter = function counter(): number {
      const self = counter as unknown as { calls?: number }
      self.calls = (self.calls ?? 0) + 1
      return self.calls
    }
    const values: unknown[] = []
    for (let i = 0; i < 5; i++) values.push(valueOf(await h.run(counter).outcome))
    t.deepEqual(values, [1, 2, 3, 4, 5])
    await h.pool.close()
  })

  test.serial(`${kind}: currentTask() shows id and attempt`, async (t) => {
    const h = new PoolHarness({ kind, maxWorkers: 1 })
    const fn = () => {
      const ctx = (
        globalThis as unknown as { currentTask(): { id: number; attempt: number } }
      ).currentTask()
      const viaSymbol = (globalThis as Record<symbol, { id: number } | undefined>)[
        Symbol.for('clusterpool.currentTask')
      ]
      return [ctx.id, ctx.attempt, viaSymbol?.id, Object.keys(globalThis).includes('currentTask')]
    }
    const { id, outcome } = h.run(fn, [], { attempt: 3 })
    t.deepEqual(valueOf(await outcome), [id, 3, id, false])
    await h.pool.close()
  })

  test.serial(`${kind}: async results, Maps, and imports inside a source task`, async (t) => {
    const h = new PoolHarness({ kind, maxWorkers: 1 })
    const fn = async (name: string) => {
      const path = await import('node:path')
      const { Packr } = await import('msgpackr') // a bare specifier, resolved from cwd
      return new Map<string, unknown>([
        ['base', path.basename(`/a/${name}`)],
        ['packr', typeof Packr],
      ])
    }
    const value = valueOf(await h.run(fn, ['file.txt']).outcome)
    t.deepEqual(
      value,
      new Map([
        ['base', 'file.txt'],
        ['packr', 'function'],
      ]),
    )
    await h.pool.close()
  })

  test.serial(`${kind}: module tasks from a .js and a .ts file`, async (t) => {
    const h = new PoolHarness({ kind, maxWorkers: 1 })
    t.is(valueOf(await h.runModule(jsTasks, 'add', [2, 3]).outcome), 5)
    t.is(valueOf(await h.runModule(jsTasks, 'default', ['x']).outcome), 'default x')
    t.is(valueOf(await h.runModule(jsTasks.pathname, 'slowDouble', [4, 5]).outcome), 8)
    t.is(valueOf(await h.runModule(tsTasks, 'norm', [{ x: 3, y: 4 }]).outcome), 5)
    t.is(valueOf(await h.runModule(tsTasks, 'typed', ['abc']).outcome), 'ABC')
    await h.pool.close()
  })

  test.serial(`${kind}: a missing export or module is a clear error`, async (t) => {
    const h = new PoolHarness({ kind, maxWorkers: 1 })
    const missing = errorOf(await h.runModule(jsTasks, 'nope').outcome)
    t.is(missing.name, 'InvalidTaskError')
    t.regex(missing.message, /pool-tasks\.mjs has no export named "nope"; its exports are: .*add/)
    const notFn = errorOf(await h.runModule(jsTasks, 'notAFunction').outcome)
    t.regex(notFn.message, /export "notAFunction" of module .* is a number, not a function/)
    const noModule = errorOf(await h.runModule('./no-such-module.js', 'x').outcome)
    t.is(noModule.code, 'ERR_MODULE_NOT_FOUND')
    // The child survived all of it.
    t.is(valueOf(await h.runModule(jsTasks, 'add', [1, 1]).outcome), 2)
    t.is(h.internals().spawned, 1)
    await h.pool.close()
  })

  test.serial(`${kind}: a variable from an enclosing scope is a TaskScopeError`, async (t) => {
    const h = new PoolHarness({ kind, maxWorkers: 1 })
    const secret = 7
    const error = errorOf(await h.run(() => secret * 2).outcome)
    t.is(error.name, 'TaskScopeError')
    t.is(error.code, 'CP_ERR_TASK_SCOPE')
    t.regex(error.message, /`secret`/)
    t.is(error.cause?.name, 'ReferenceError')
    t.is(error.cause?.message, 'secret is not defined')
    await h.pool.close()
  })

  test.serial(`${kind}: an unsendable result fails that task only`, async (t) => {
    const h = new PoolHarness({ kind, maxWorkers: 1 })
    const error = errorOf(await h.run(() => ({ ok: 1, cb: function callback() {} })).outcome)
    t.is(error.name, 'UnsendableValueError')
    t.is(error.code, 'CP_ERR_UNSENDABLE')
    t.regex(error.message, /the return value\.cb is a function \(callback\)/)
    t.is(valueOf(await h.run(() => 'fine').outcome), 'fine')
    await h.pool.close()
  })

  test.serial(`${kind}: thrown errors keep their class, message and props`, async (t) => {
    const h = new PoolHarness({ kind, maxWorkers: 1 })
    const typeError = errorOf(
      await h.run(
        (v: unknown) => {
          throw new TypeError(`bad ${String(v)}`)
        },
        ['input'],
      ).outcome,
    )
    t.is(typeError.name, 'TypeError')
    t.is(typeError.message, 'bad input')
    t.regex(typeError.stack ?? '', /TypeError: bad input/)
    const rejected = errorOf(
      await h.run(async () => {
        await Promise.resolve()
        throw Object.assign(new Error('no file'), { code: 'ENOENT', path: '/x' })
      }).outcome,
    )
    t.is(rejected.code, 'ENOENT')
    t.deepEqual(rejected.props, { path: '/x' })
    const syntax = errorOf(
      await h.submitRef({ kind: 'source', hash: 'bad-src', source: 'x =>> 1', name: 'bad' }, [])
        .outcome,
    )
    t.is(syntax.name, 'SyntaxError')
    await h.pool.close()
    t.like(h.pool.stats, { completed: 0, failed: 3 })
  })
}

for (const kind of KINDS) {
  test(`${kind}: every result owns its bytes, copied out of the read that brought it`, async (t) => {
    const { TaskPool } = await import('../src/index.js')
    const { sourceFnRef } = await import('@clusterpool/protocol')
    const values: Uint8Array[] = []
    let done!: () => void
    const all = new Promise<void>((resolve) => (done = resolve))
    const pool = new TaskPool(
      { kind, maxWorkers: 1 },
      {
        onStart() {},
        onResult(_id, value) {
          values.push(value)
          if (values.length === 40) done()
        },
        onError(_id, error) {
          t.fail(error.message)
        },
      },
    )
    const echo = sourceFnRef(function echo(n: number): string {
      return 'x'.repeat(n)
    })
    // Small and large results, many to a batch.
    for (let i = 0; i < 40; i++)
      pool.submit({ id: i + 1, fn: echo, args: Uint8Array.of(0x91, i % 2 === 0 ? 3 : 0x7f) })
    await all
    await pool.close()
    for (const v of values) t.is(v.buffer.byteLength, v.byteLength)
  })
}
