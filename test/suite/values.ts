// The shared executor suite: values, errors, and the Future on a real task.

import { TaskError, TimeoutError, wait } from 'clusterpool'

import { sleep, waitFor } from '../helpers/processes.js'

import { echo, gated, scratch, type Suite } from './shared.js'

export function valueTests(suite: Suite): void {
  // ─── values ─────────────────────────────────────────────────────────────────────────────────

  suite.it('arguments and results round trip every sendable type', async (t, ex) => {
    const value = {
      map: new Map<unknown, unknown>([
        ['a', 1],
        [2, { nested: [1n, new Set(['x'])] }],
      ]),
      set: new Set([1, 'two', 3.5]),
      date: new Date('2024-02-29T12:34:56.789Z'),
      big: 2n ** 70n,
      negBig: -(2n ** 65n),
      u8: new Uint8Array([0, 1, 255]),
      f64: new Float64Array([1.5, -2.25, Number.MAX_VALUE]),
      i32: new Int32Array([-1, 2 ** 31 - 1]),
      nested: [[{ deep: { deeper: ['é', true, false, null, 0, -1, 1e300] } }]],
      empty: { array: [], object: {}, string: '' },
    }
    const back = (await ex.submit(echo, value)) as typeof value
    t.deepEqual(back, value)
    t.true(back.map instanceof Map)
    t.true(back.set instanceof Set)
    t.true(back.date instanceof Date)
    t.is(typeof back.big, 'bigint')
    t.true(back.f64 instanceof Float64Array)
    t.true(back.i32 instanceof Int32Array)
    t.is(await ex.submit(echo, undefined), undefined)
    t.is(await ex.submit(echo, null), null)
    t.is(await ex.submit(echo, 'plain'), 'plain')
  })

  suite.it(
    'a Buffer argument arrives as a Buffer, and a Buffer result comes back as one',
    async (t, ex) => {
      const made = await ex.submit((s: string) => Buffer.from(s), 'made')
      t.true(Buffer.isBuffer(made))
      t.is(made.toString(), 'made')
      const seen = await ex.submit(
        (b: Buffer) => [Buffer.isBuffer(b), b.toString('utf8')] as const,
        Buffer.from('héllo'),
      )
      t.deepEqual(seen, [true, 'héllo'])
      const back = await ex.submit(echo, Buffer.from([1, 2, 3]))
      t.true(Buffer.isBuffer(back))
      t.deepEqual(back, Buffer.from([1, 2, 3]))
    },
  )

  suite.it('values built inside the task come back with their types', async (t, ex) => {
    const back = await ex.submit(
      (n: number) => ({
        map: new Map([[n, new Set([n, n + 1])]]),
        date: new Date(n * 1000),
        big: BigInt(n) ** 3n,
        bytes: new Uint16Array([n, n * 2]),
      }),
      7,
    )
    t.deepEqual(back.map, new Map([[7, new Set([7, 8])]]))
    t.deepEqual(back.date, new Date(7000))
    t.is(back.big, 343n)
    t.deepEqual(back.bytes, new Uint16Array([7, 14]))
  })

  // ─── errors ─────────────────────────────────────────────────────────────────────────────────

  suite.it('a built-in error class comes back as an instance of that class', async (t, ex) => {
    const typeError = await t.throwsAsync(
      ex.submit((x: unknown) => {
        if (typeof x !== 'number') throw new TypeError(`expected a number, got ${typeof x}`)
        return x
      }, 'nope'),
    )
    t.true(typeError instanceof TypeError)
    t.is(typeError.name, 'TypeError')
    t.is(typeError.message, 'expected a number, got string')

    const rangeError = await t.throwsAsync(ex.submit(() => new Array(-1)))
    t.true(rangeError instanceof RangeError)

    const fromRuntime = await t.throwsAsync(ex.submit((o: { a?: { b: number } }) => o.a!.b, {}))
    t.true(fromRuntime instanceof TypeError)
    t.regex(fromRuntime.message, /Cannot read properties of undefined/)
  })

  suite.it('a custom error keeps its name, message, stack, cause and code', async (t, ex) => {
    const error = await t.throwsAsync(
      ex.submit((field: string) => {
        class ValidationError extends Error {
          constructor(message: string, options: ErrorOptions) {
            super(message, options)
            this.name = 'ValidationError'
            Object.assign(this, { code: 'E_VALIDATION', field })
          }
        }
        function checkAge(): never {
          throw new ValidationError(`${field} must be positive`, {
            cause: new RangeError('-3 is below 0'),
          })
        }
        checkAge()
      }, 'age'),
    )
    t.is(error.name, 'ValidationError')
    t.is(error.message, 'age must be positive')
    t.is((error as Error & { code: string }).code, 'E_VALIDATION')
    t.is((error as Error & { field: string }).field, 'age')
    t.true(error instanceof TaskError)
    // The task's own stack, with the frame of the function that threw in the task process.
    t.regex(error.stack ?? '', /ValidationError: age must be positive/)
    t.regex(error.stack ?? '', /checkAge/)
    t.true(error.cause instanceof RangeError)
    t.is((error.cause as Error).message, '-3 is below 0')

    const plain = await t.throwsAsync(
      ex.submit(() => {
        const error = new Error('bad input')
        error.name = 'ParseError'
        throw error
      }),
    )
    t.true(plain instanceof TaskError)
    t.is(plain.name, 'ParseError')
    t.is(plain.message, 'bad input')
    t.is((plain as TaskError).code, 'CP_ERR_TASK_FAILED')
  })

  suite.it(
    'an AggregateError keeps its errors, and a cause that is a value stays that value',
    async (t, ex) => {
      const aggregate = await t.throwsAsync(
        ex.submit(() => {
          throw new AggregateError([new RangeError('r'), new Error('e')], 'both failed')
        }),
      )
      t.true(aggregate instanceof AggregateError)
      t.deepEqual(
        (aggregate as AggregateError).errors.map((e: Error) => [e.name, e.message]),
        [
          ['RangeError', 'r'],
          ['Error', 'e'],
        ],
      )
      const caused = await t.throwsAsync(
        ex.submit(() => {
          throw new Error('fetch failed', { cause: { status: 503 } })
        }),
      )
      t.deepEqual(caused.cause, { status: 503 })
      const thrown = await t.throwsAsync(
        ex.submit(() => {
          throw { code: 'E_QUOTA', left: 0 } as unknown as Error
        }),
      )
      t.is((thrown as Error & { code: string }).code, 'E_QUOTA')
      t.regex(thrown.message, /"left":0/)
    },
  )

  suite.it('a thrown non-Error value fails the future with a readable Error', async (t, ex) => {
    const error = await t.throwsAsync(
      ex.submit(() => {
        throw 'just a string'
      }),
    )
    t.regex(error.message, /just a string/)
  })

  suite.it('a failed future that nobody awaits does not crash the process', async (t, ex) => {
    const f = ex.submit(() => {
      throw new Error('ignored failure')
    })
    const { done } = await wait([f])
    t.true(done.has(f))
    // Give any unhandled rejection a chance to surface (ava fails the run if one does).
    await sleep(50)
    t.is((await f.exception())?.message, 'ignored failure')
  })

  // ─── the Future on a real task ──────────────────────────────────────────────────────────────

  suite.it(
    'a future moves pending → running → finished; result(timeoutMs) times out',
    async (t, ex) => {
      const s = scratch(t)
      const f = ex.submit(gated, s.dir, 'one')
      t.false(f.done())
      await s.until('one.started')
      await waitFor(() => f.running(), 'the future to be running')
      t.false(f.done())
      const timeout = await t.throwsAsync(f.result(50), { instanceOf: TimeoutError })
      t.is(timeout.code, 'CP_ERR_TIMEOUT')
      t.false(f.done(), 'result(timeoutMs) does not cancel the future')
      const calls: string[] = []
      f.addDoneCallback(() => calls.push('first'))
      s.open('one')
      t.is(await f, 'one')
      t.is(await f.result(), 'one')
      t.is(await f.exception(), undefined)
      t.true(f.done())
      t.false(f.running())
      t.false(f.cancelled())
      t.false(f.cancel(), 'a finished future cannot be cancelled')
      f.addDoneCallback(() => calls.push('late'))
      t.deepEqual(calls, ['first', 'late'], 'a callback added after done runs at once')
    },
  )
}
