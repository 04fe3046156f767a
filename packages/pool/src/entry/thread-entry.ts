/**
 * The program a pool's worker thread runs. Batches travel as msgpack bytes whose buffer is
 * transferred, not copied, through the thread's port.
 */
import { parentPort } from 'node:worker_threads'

import { createBatchEncoder, createChildBatchDecoder } from '../batch-codec.js'
import { Runner } from './runner.js'
import { loadSetupModules } from './setup.js'

const port = parentPort
if (port === null) throw new Error('thread-entry must run in a worker thread')

const encoder = createBatchEncoder()
const decoder = createChildBatchDecoder()

const runner = new Runner(
  {
    send(messages) {
      // A copy of exactly these bytes, so that transferring it moves nothing else.
      const bytes = new Uint8Array(encoder.encode(messages))
      port.postMessage(bytes, [bytes.buffer])
    },
  },
  (code) => process.exit(code),
)
runner.installGlobalHooks()
await loadSetupModules()

port.on('message', (bytes: Uint8Array) => {
  // The port delivers a plain Uint8Array; viewed as a Buffer (no copy), byte values inside
  // decode as Buffers, as they do in a child process reading its pipe.
  runner.receive(decoder.decode(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)))
})
