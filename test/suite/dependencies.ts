// The shared executor suite: futures passed as task arguments, on every executor kind. A local
// pool waits for them itself; a cluster hands its own to the coordinator as dependencies.

import { DependencyError, type Future } from 'clusterpool'

import { waitFor } from '../helpers/processes.js'
import { double, echo, gated, scratch, stubborn, type Suite } from './shared.js'

export function dependencyTests(suite: Suite): void {
  suite.it('futures as arguments: the task receives their values', async (t, ex) => {
    const a = ex.submit(double, 20)
    const b = ex.submit((x: number) => x + 1, 1)
    const sum = ex.submit((x: number, y: number) => x + y, a, b)
    t.is(await sum, 42)
  })

  suite.it('futures inside arrays, objects, Maps and Sets are waited for too', async (t, ex) => {
    const s = scratch(t)
    const slow = ex.submit(gated, s.dir, 'slow')
    const two = ex.submit(double, 1)
    const nested = ex.submit(
      (
        list: unknown[],
        object: { deep: { value: unknown } },
        map: Map<string, unknown>,
        set: Set<unknown>,
      ) => [list, object.deep.value, [...map.values()], [...set]],
      [slow, 1],
      { deep: { value: two } },
      new Map([['k', slow]]),
      new Set([two]),
    )
    await s.until('slow.started')
    t.false(nested.done(), 'it waits for the slow future')
    s.open('slow')
    t.deepEqual(await nested, [['slow', 1], 2, ['slow'], [2]])
  })

  suite.it(
    'a failed or cancelled dependency fails its dependent with DependencyError naming it',
    async (t, ex) => {
      const s = scratch(t)
      const bad = ex.submit(gated, s.dir, 'bad', true)
      const child = ex.submit(echo, { inside: [bad] })
      s.open('bad')
      const error = await t.throwsAsync(child, { instanceOf: DependencyError })
      t.is(error.code, 'CP_ERR_DEPENDENCY_FAILED')
      t.is(error.dependency, bad.key)
      t.regex(error.message, /gate bad failed/)
      // One that failed already fails the dependent at once.
      const late = await t.throwsAsync(ex.submit(echo, bad), { instanceOf: DependencyError })
      t.is(late.dependency, bad.key)
      // A cancelled one (queued behind a task that holds every slot).
      const blockers = Array.from({ length: suite.kit.slots }, (_, i) =>
        ex.submit(gated, s.dir, `block${i}`),
      )
      const doomed = ex.submit(double, 1)
      const orphan = ex.submit(echo, doomed)
      t.true(doomed.cancel())
      const orphanError = await t.throwsAsync(orphan, { instanceOf: DependencyError })
      t.is(orphanError.dependency, doomed.key)
      t.regex(orphanError.message, /cancelled/)
      for (let i = 0; i < blockers.length; i++) s.open(`block${i}`)
      await Promise.all(blockers)
      t.is(await ex.submit(double, 4), 8)
    },
  )

  suite.it(
    'a failure at the head of a long chain fails every link, with a message of bounded size',
    async (t, ex) => {
      const head = ex.submit(() => {
        throw new RangeError('the head failed')
      })
      let last: Future<number> = head
      const chain: Future<number>[] = []
      for (let i = 0; i < 3000; i++) {
        last = ex.submit((x: number) => x + 1, last)
        chain.push(last)
      }
      const errors = await Promise.all(chain.map((f) => f.exception(60_000)))
      t.true(errors.every((e) => e instanceof DependencyError))
      const message = errors.at(-1)!.message
      t.regex(message, /failed: the head failed$/)
      t.true(message.length < 200, `${message.length} characters`)
      t.is(await ex.submit(double, 2), 4, 'the executor keeps working')
    },
  )

  suite.it(
    'a dependent that is running says so, and cancel() does not claim to stop it',
    async (t, ex) => {
      const s = scratch(t)
      const name = ex.submit((x: string) => x, 'dep')
      const dep = ex.submit(stubborn, s.dir, name)
      await s.until('dep.started')
      await waitFor(() => dep.running(), 'the dependent to be running')
      t.false(dep.cancel(), 'a running task cannot be cancelled')
      t.false(dep.cancelled())
      s.open('dep')
      t.is(await dep, 'dep')
    },
  )

  suite.it(
    'shutdown() waits for a dependent submitted before it, which then runs',
    async (t, ex) => {
      const s = scratch(t)
      const root = ex.submit(gated, s.dir, 'root')
      const dependent = ex.submit((name: string) => `after ${name}`, root)
      await s.until('root.started')
      const shutdown = ex.shutdown()
      s.open('root')
      await shutdown
      t.is(await dependent, 'after root')
    },
  )
}
