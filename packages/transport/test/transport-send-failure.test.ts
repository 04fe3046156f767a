// A frame the encoder refuses ("Packed buffer would be larger than maximum buffer size", or a
// value it cannot encode) closes only that connection, with the reason; it never throws out of
// the flush, which runs from the event loop and would end the process.
import { once } from 'node:events'

import { CloseCode, type CoordinatorToClient } from '@clusterpool/protocol'
import test from 'ava'
import WebSocket, { WebSocketServer } from 'ws'

import { Connection } from '../src/connection.js'

test('a batch that cannot be encoded closes the connection with 1011 and the reason', async (t) => {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 })
  t.teardown(() => wss.close())
  await once(wss, 'listening')
  const { port } = wss.address() as { port: number }
  wss.on('connection', (ws) => {
    const conn = new Connection<'client->coordinator', CoordinatorToClient>(
      ws,
      'client->coordinator',
      { onMessages: () => {}, onClose: () => {} },
    )
    conn.send({ kind: 'pong', seq: Symbol('unencodable') as unknown as number })
  })
  const client = new WebSocket(`ws://127.0.0.1:${port}`)
  t.teardown(() => client.terminate())
  const [code, reason] = (await once(client, 'close')) as [number, Buffer]
  t.is(code, CloseCode.INTERNAL_ERROR)
  t.regex(reason.toString(), /could not encode a frame: Unknown type: symbol/)
})
