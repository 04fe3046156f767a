// keepAlive with real sockets: a peer that keeps sending frames is alive even if its pongs are
// late (stuck behind its own backlog); a peer that falls silent is dropped.
import { once } from 'node:events'

import { createEncoder, encodeFrame, type CoordinatorToClient } from '@clusterpool/protocol'
import test from 'ava'
import WebSocket, { WebSocketServer } from 'ws'

import { Connection } from '../src/connection.js'

test('keepAlive: any frame is a sign of life; silence past the timeout drops the peer', async (t) => {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 })
  await once(wss, 'listening')
  const { port } = wss.address() as { port: number }
  let dead: number | undefined
  const closed = new Promise<number>((resolve) => {
    wss.on('connection', (ws) => {
      const conn = new Connection<'client->coordinator', CoordinatorToClient>(
        ws,
        'client->coordinator',
        { onMessages: () => {}, onClose: (code) => resolve(code) },
      )
      conn.keepAlive(40, 200, (silentMs) => (dead = silentMs))
    })
  })
  // A peer that never answers pings (autoPong off), as one whose pongs are stuck would.
  const client = new WebSocket(`ws://127.0.0.1:${port}`, { autoPong: false })
  await once(client, 'open')
  const encoder = createEncoder()
  const started = Date.now()
  for (let seq = 0; Date.now() - started < 700; seq++) {
    client.send(encodeFrame(encoder, [{ kind: 'ping', seq }]))
    await new Promise((resolve) => setTimeout(resolve, 30))
  }
  t.is(dead, undefined, 'alive while it sends frames, 3.5 timeouts long')
  const silentFrom = Date.now()
  await closed
  t.true(dead !== undefined && dead >= 200, `dropped after ${String(dead)} ms of silence`)
  t.true(Date.now() - silentFrom < 5000)
  client.terminate()
  wss.close()
})
