// The wire floor's far end: a ws server on loopback that decodes each msgpack frame, answers
// every item with x + 1, and encodes the reply. A frame is either one item `{ i, x }` or an
// array of them. Prints `{"port": N}` when listening; exits when stdin closes or on SIGTERM.
import { Packr, Unpackr } from 'msgpackr'

import { serveOnLoopback } from './serve.js'

interface Item {
  i: number
  x: number
}

serveOnLoopback(16 * 2 ** 20, (ws) => {
  const unpackr = new Unpackr({ useRecords: false })
  const packr = new Packr({ useRecords: false })
  ws.on('message', (data: Buffer) => {
    const m = unpackr.unpack(data) as Item | Item[]
    const reply = Array.isArray(m)
      ? m.map((it) => ({ i: it.i, x: it.x + 1 }))
      : { i: m.i, x: m.x + 1 }
    ws.send(packr.pack(reply))
  })
})
