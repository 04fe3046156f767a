import test from 'ava'
import fc from 'fast-check'

import { ROUND_TRIP_WINDOW, RoundTripWindow } from '../src/scheduler/round-trip.js'

test('the median of the last samples, even counts averaging the middle two', (t) => {
  const w = new RoundTripWindow()
  t.true(Number.isNaN(w.median()))
  t.is(w.add(3), 3)
  t.is(w.add(1), 2)
  t.is(w.add(10), 3)
  t.is(w.samples, 3)
})

test('property: the median of the window is the median of the last ROUND_TRIP_WINDOW samples', (t) => {
  fc.assert(
    fc.property(
      fc.array(fc.double({ min: 0.01, max: 100, noNaN: true }), { minLength: 1, maxLength: 60 }),
      (xs) => {
        const w = new RoundTripWindow()
        let got = NaN
        for (const x of xs) got = w.add(x)
        const last = xs.slice(-ROUND_TRIP_WINDOW).sort((a, b) => a - b)
        const mid = last.length >> 1
        const want = last.length % 2 === 1 ? last[mid]! : (last[mid - 1]! + last[mid]!) / 2
        return got === want
      },
    ),
  )
  t.pass()
})
