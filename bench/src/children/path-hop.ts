// One hop of the path floor (anchors/path-floor.ts): the processes a task crosses in a
// LocalCluster, each doing only what any router must (decode a frame, encode it again, pass it
// on), with no task logic.
//
//   bench ─ws─► relay (coordinator's place) ─ws─► pipe-relay (daemon's place) ─pipe─► leaf (task process's place)
//
// `relay <url>`   a ws server on loopback; each upstream connection gets its own ws to <url>.
// `pipe-relay`    a ws server on loopback; each upstream connection gets its own leaf process,
//                 reached over length-prefixed frames on fds 3 (out) and 4 (in), as the pool does.
// `leaf`          answers every item `{ i, x }` (or array of them) with x + 1.
//
// The servers print `{"port": N}` when listening and exit when stdin closes or on SIGTERM.
import { spawn } from 'node:child_process'
import { writeSync } from 'node:fs'
import { Socket } from 'node:net'
import { fileURLToPath } from 'node:url'
import type { Readable, Writable } from 'node:stream'

import { Packr, Unpackr } from 'msgpackr'
import WebSocket from 'ws'

import { serveOnLoopback } from './serve.js'

interface Item {
  i: number
  x: number
}
type Message = Item | Item[]

const MAX_PAYLOAD_BYTES = 16 * 2 ** 20

/** Decodes and encodes again: the least a router that reads its messages does per frame. */
function reencoder(): (data: Uint8Array) => Buffer {
  const unpackr = new Unpackr({ useRecords: false })
  const packr = new Packr({ useRecords: false })
  return (data) => packr.pack(unpackr.unpack(data) as Message)
}

/** Length-prefixed frames (uint32 big-endian), as the pool's pipes carry them. */
function frame(payload: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(4 + payload.byteLength)
  out.writeUInt32BE(payload.byteLength, 0)
  out.set(payload, 4)
  return out
}

function onFrames(stream: Readable, each: (payload: Buffer) => void): void {
  let pending: Buffer = Buffer.alloc(0)
  stream.on('data', (chunk: Buffer) => {
    let buf = pending.length === 0 ? chunk : Buffer.concat([pending, chunk])
    let offset = 0
    while (buf.length - offset >= 4) {
      const length = buf.readUInt32BE(offset)
      if (buf.length - offset - 4 < length) break
      each(buf.subarray(offset + 4, offset + 4 + length))
      offset += 4 + length
    }
    buf = buf.subarray(offset)
    pending = buf.length === 0 ? Buffer.alloc(0) : Buffer.from(buf)
  })
}

function relay(url: string): void {
  serveOnLoopback(MAX_PAYLOAD_BYTES, (up) => {
    const down = new WebSocket(url, { perMessageDeflate: false, maxPayload: MAX_PAYLOAD_BYTES })
    const toDown = reencoder()
    const toUp = reencoder()
    const queued: Buffer[] = []
    down.on('open', () => {
      for (const b of queued.splice(0)) down.send(b)
    })
    up.on('message', (data: Buffer) => {
      const b = toDown(data)
      if (down.readyState === WebSocket.OPEN) down.send(b)
      else queued.push(b)
    })
    down.on('message', (data: Buffer) => up.send(toUp(data)))
    up.on('close', () => down.close())
  })
}

function pipeRelay(): void {
  const self = fileURLToPath(import.meta.url)
  serveOnLoopback(MAX_PAYLOAD_BYTES, (up) => {
    const leaf = spawn(process.execPath, [...process.execArgv, self, 'leaf'], {
      stdio: ['ignore', 'inherit', 'inherit', 'pipe', 'pipe'],
    })
    const input = leaf.stdio[3] as Writable
    const output = leaf.stdio[4] as Readable
    const toLeaf = reencoder()
    const toUp = reencoder()
    up.on('message', (data: Buffer) => input.write(frame(toLeaf(data))))
    onFrames(output, (payload) => up.send(toUp(payload)))
    up.on('close', () => leaf.kill())
    process.on('exit', () => leaf.kill())
  })
}

const pause = new Int32Array(new SharedArrayBuffer(4))

function leaf(): void {
  const unpackr = new Unpackr({ useRecords: false })
  const packr = new Packr({ useRecords: false })
  // fd 3 is what the parent writes, fd 4 what it reads, written synchronously: as the pool's
  // task process does.
  const input = new Socket({ fd: 3, readable: true, writable: false })
  onFrames(input, (payload) => {
    const m = unpackr.unpack(payload) as Message
    const reply = Array.isArray(m)
      ? m.map((it) => ({ i: it.i, x: it.x + 1 }))
      : { i: m.i, x: m.x + 1 }
    const out = frame(packr.pack(reply))
    let written = 0
    while (written < out.length) {
      try {
        written += writeSync(4, out, written)
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') throw error
        Atomics.wait(pause, 0, 0, 1)
      }
    }
  })
  input.on('end', () => process.exit(0))
}

const [role = '', arg] = process.argv.slice(2)
if (role === 'relay' && arg !== undefined) relay(arg)
else if (role === 'pipe-relay') pipeRelay()
else if (role === 'leaf') leaf()
else throw new Error(`unknown role '${role}': relay <url> | pipe-relay | leaf`)
