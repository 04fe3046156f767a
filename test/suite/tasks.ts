// The shared executor suite: what a task may be (closures, unsendable values, refused
// functions, TypeScript module tasks).

import { InvalidTaskError, TaskScopeError, UnsendableValueError, task } from 'clusterpool'

import { collect, double, echo, type Suite } from './shared.js'

export function taskTests(suite: Suite): void {
  // ─── what a task may be ─────────────────────────────────────────────────────────────────────

  suite.it(
    'a closure fails with TaskScopeError naming the variable and both fixes',
    async (t, ex) => {
      const offset = 41
      const error = await t.throwsAsync(
        ex.submit((x: number) => x + offset, 1),
        { instanceOf: TaskScopeError },
      )
      t.is(error.code, 'CP_ERR_TASK_SCOPE')
      t.is(error.variable, 'offset')
      t.regex(error.message, /`offset`/)
      t.regex(error.message, /pass it as an argument/)
      t.regex(error.message, /module task/)
      t.is(await ex.submit((x: number, y: number) => x + y, 1, offset), 42, 'the fix works')
    },
  )

  suite.it(
    'an unsendable argument fails only its future; the executor keeps working',
    async (t, ex) => {
      class Point {
        constructor(readonly x: number) {}
        norm(): number {
          return Math.abs(this.x)
        }
      }
      const good1 = ex.submit(double, 1)
      const fnArg = ex.submit(echo, { callback: () => 1 })
      const classArg = ex.submit(echo, [new Point(3)] as unknown)
      const good2 = ex.submit(double, 2)
      const e1 = await t.throwsAsync(fnArg, { instanceOf: UnsendableValueError })
      t.is(e1.code, 'CP_ERR_UNSENDABLE')
      t.regex(e1.message, /function/)
      t.regex(e1.message, /callback/)
      const e2 = await t.throwsAsync(classArg, { instanceOf: UnsendableValueError })
      t.regex(e2.message, /Point/)
      t.deepEqual(await Promise.all([good1, good2]), [2, 4])

      const badResult = await t.throwsAsync(ex.submit(() => ({ f: () => 1 })))
      t.is((badResult as UnsendableValueError).code, 'CP_ERR_UNSENDABLE')
      t.regex(badResult.message, /function/)
      t.is(await ex.submit(double, 3), 6)
    },
  )

  suite.it(
    'a circular or too deeply nested argument fails its future, not the submit call',
    async (t, ex) => {
      const circular: Record<string, unknown> = { a: 1 }
      circular.self = circular
      let deep: unknown = 0
      for (let i = 0; i < 20_000; i++) deep = [deep]
      const inMap = new Map<string, unknown>()
      inMap.set('me', inMap)
      for (const [value, why] of [
        [circular, /circular/],
        [[1, circular], /circular/],
        [inMap, /circular/],
        [deep, /deeper than 1000 levels/],
      ] as const) {
        const error = await t.throwsAsync(ex.submit(echo, value), {
          instanceOf: UnsendableValueError,
        })
        t.regex(error.message, why)
      }
      t.is(await ex.submit(double, 4), 8, 'the executor keeps working')
    },
  )

  suite.it('bound, native and class-method functions are refused at submit', async (t, ex) => {
    function add(this: unknown, a: number, b: number): number {
      return a + b
    }
    class Calculator {
      twice(x: number): number {
        return x * 2
      }
    }
    const object = {
      method(x: number): number {
        return x
      },
    }
    // Detached methods on purpose: that is what a user might submit.
    /* eslint-disable @typescript-eslint/unbound-method */
    const cases: [string, unknown, RegExp][] = [
      ['bound', add.bind(null, 1), /bound function/],
      ['native', Math.max, /native function/],
      ['class method', new Calculator().twice, /method/],
      ['object method', object.method, /method/],
      ['class', Calculator, /class/],
    ]
    /* eslint-enable @typescript-eslint/unbound-method */
    for (const [what, fn, message] of cases) {
      const error = t.throws(() => ex.submit(fn as (x: number) => number, 1), {
        instanceOf: InvalidTaskError,
      })
      t.is(error.code, 'CP_ERR_INVALID_TASK', what)
      t.regex(error.message, message, what)
    }
    t.is(await ex.submit(double, 8), 16)
  })

  suite.it('a module task written in TypeScript runs without a build step', async (t, ex) => {
    const url = new URL('../fixtures/tasks.ts', import.meta.url)
    t.is(await ex.submit(task<[{ x: number; y: number }], number>(url, 'norm'), { x: 3, y: 4 }), 5)
    t.is(await ex.submit(task<[string], string>(url, 'shout'), 'hi'), 'HI')
    t.is(await ex.submit(task<[number], number>(url), 5), 15, 'default export')
    t.deepEqual(await collect(ex.map(task<[number], number>(url), [1, 2])), [3, 6])
    const missing = await t.throwsAsync(ex.submit(task(url, 'nope')), {
      instanceOf: InvalidTaskError,
    })
    t.regex(missing.message, /no export named "nope"/)
  })
}
