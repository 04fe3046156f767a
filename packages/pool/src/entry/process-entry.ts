/**
 * The program a pool's child process runs: `node process-entry.js`, spawned with two extra
 * pipes. fd 3 carries frames from the parent; fd 4 carries frames to it, written synchronously
 * so that results are never left behind in a buffer when the process exits or crashes.
 * When fd 3 closes (the parent is gone), the child exits.
 */
import { writeSync } from 'node:fs'
import { Socket } from 'node:net'

import { createBatchEncoder, createChildBatchDecoder } from '../batch-codec.js'
import { FrameReader, encodePipeFrame } from '../framing.js'
import { CHILD_INPUT_FD, CHILD_OUTPUT_FD, RSS_SHARE_FILE_ENV } from '../child-fds.js'
import { collectAfterResults, startMemoryGuard } from './memory-guard.js'
import { Runner } from './runner.js'
import { loadSetupModules } from './setup.js'

const shareFile = process.env[RSS_SHARE_FILE_ENV]
const guarded = shareFile !== undefined && shareFile !== ''
if (guarded) startMemoryGuard(shareFile)

const encoder = createBatchEncoder()
const decoder = createChildBatchDecoder()
const reader = new FrameReader()
let parentGone = false

const runner = new Runner(
  {
    send(messages) {
      if (parentGone) return
      try {
        writeAllSync(CHILD_OUTPUT_FD, encodePipeFrame(encoder.encode(messages)))
        if (guarded) collectAfterResults()
      } catch (error) {
        parentGone = true
        throw error
      }
    },
  },
  (code) => process.exit(code),
)
runner.installGlobalHooks()
await loadSetupModules()

const input = new Socket({ fd: CHILD_INPUT_FD, readable: true, writable: false })
input.on('data', (chunk: Buffer) => {
  for (const frame of reader.push(chunk)) runner.receive(decoder.decode(frame))
})
const parentClosed = (): void => {
  parentGone = true
  process.exit(0)
}
input.on('end', parentClosed)
input.on('error', parentClosed)

const pause = new Int32Array(new SharedArrayBuffer(4))

/** Writes every byte, waiting out a full pipe if the descriptor happens to be non-blocking. */
function writeAllSync(fd: number, bytes: Uint8Array): void {
  let offset = 0
  while (offset < bytes.byteLength) {
    try {
      offset += writeSync(fd, bytes, offset)
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') throw error
      Atomics.wait(pause, 0, 0, 1)
    }
  }
}
