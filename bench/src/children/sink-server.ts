// The far end of P6's wire floor: decodes each msgpack frame (one large byte value) and answers
// with its length. One such exchange is the least a direct worker-to-worker transfer costs.
import { Packr, Unpackr } from 'msgpackr'

import { serveOnLoopback } from './serve.js'

serveOnLoopback(1024 * 2 ** 20, (ws) => {
  const unpackr = new Unpackr({ useRecords: false })
  const packr = new Packr({ useRecords: false })
  ws.on('message', (data: Buffer) => {
    const value = unpackr.unpack(data) as Uint8Array
    ws.send(packr.pack({ n: value.byteLength }))
  })
})
