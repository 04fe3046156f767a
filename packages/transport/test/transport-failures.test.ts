// A frame this side cannot handle or encode closes only its connection, with CloseCode.INTERNAL
// and a reason: nothing throws out of the socket's or the outbox's callbacks.
import { once } from 'node:events'

import {
  CloseCode,
  ProtocolError,
  createEncoder,
  encodeFrame,
  type CoordinatorToClient,
  type FrameError,
} from '@clusterpool/protocol'
import test from 'ava'
import WebSocket, { WebSocketServer } from 'ws'

import { Connection } from '../src/connection.js'

type ServerEnd = Connection<'client->coordinator', CoordinatorToClient>

/** A server whose first connection is handed to `setup`, and a raw client connected to it. */
async function pair(
  setup: (conn: ServerEnd) => void,
  handlers: { onMessages?: () => void } = {},
): Promise<{ client: WebSocket; errors: FrameError[]; closed: Promise<[number, string]> }> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 })
  await once(wss, 'listening')
  const { port } = wss.address() as { port: number }
  const errors: FrameError[] = []
  const accepted = new Promise<void>((resolve) => {
    wss.on('connection', (ws) => {
      const conn: ServerEnd = new Connection(ws, 'client->coordinator', {
        onMessages: handlers.onMessages ?? (() => {}),
        onClose: () => wss.close(),
        onProtocolError: (error) => errors.push(error),
      })
      setup(conn)
      resolve()
    })
  })
  const client = new WebSocket(`ws://127.0.0.1:${port}`)
  const closed = new Promise<[number, string]>((resolve) =>
    client.on('close', (code, reason) => resolve([code, reason.toString()])),
  )
  await once(client, 'open')
  await accepted
  return { client, errors, closed }
}

test('a handler that throws closes only that connection, with a reason', async (t) => {
  const { client, errors, closed } = await pair(() => {}, {
    onMessages: () => {
      throw new TypeError('the handler broke')
    },
  })
  client.send(encodeFrame(createEncoder(), [{ kind: 'ping', seq: 1 }]))
  const [code, reason] = await closed
  t.is(code, CloseCode.INTERNAL)
  t.regex(reason, /handling a frame it received failed: TypeError: the handler broke/)
  t.is(errors.length, 1)
  t.true(errors[0] instanceof ProtocolError)
})

test('a message that cannot be encoded closes the connection instead of throwing', async (t) => {
  // Nested far deeper than msgpackr's encoder can recurse: encoding throws a RangeError.
  let deep: unknown = 0
  for (let i = 0; i < 200_000; i++) deep = [deep]
  const { errors, closed } = await pair((conn) => {
    conn.send({ kind: 'pong', seq: 1, deep } as unknown as CoordinatorToClient)
  })
  const [code, reason] = await closed
  t.is(code, CloseCode.INTERNAL)
  t.regex(reason, /encoding a frame to send failed/)
  t.is(errors.length, 1)
})

test('a value the encoder refuses closes the connection with its reason', async (t) => {
  const { closed } = await pair((conn) => {
    conn.send({ kind: 'pong', seq: Symbol('unencodable') as unknown as number })
  })
  const [code, reason] = await closed
  t.is(code, CloseCode.INTERNAL)
  t.regex(reason, /encoding a frame to send failed: .*Unknown type: symbol/)
})
