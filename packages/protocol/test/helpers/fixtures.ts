/** One valid message of every kind, per direction: the fixtures of the message tests. */
import { ErrorCode } from '../../src/errors/codes.js'
import { serializeError } from '../../src/errors/serialize.js'
import type { ClientToCoordinator, CoordinatorToClient } from '../../src/messages/client.js'
import type { Message } from '../../src/messages/frame.js'
import { Direction } from '../../src/messages/kinds.js'
import type { CoordinatorToWorker, WorkerToCoordinator } from '../../src/messages/worker.js'
import { PROTOCOL_VERSION } from '../../src/version.js'

export const bin = (...b: number[]) => Buffer.from(b)
export const versions = { node: '20.20.2', clusterpool: '0.1.0' }
export const fn = { kind: 'source', hash: 'h4sh', source: '(x) => x + 1', name: 'inc' } as const

export const CLIENT_TO_COORDINATOR: ClientToCoordinator[] = [
  { kind: 'hello', version: PROTOCOL_VERSION, role: 'client', name: 'notebook' },
  {
    kind: 'submit',
    tasks: [
      { id: 0, fn, args: bin(0x91, 0x01) },
      {
        id: 1,
        fn: { kind: 'source', hash: 'h4sh', name: 'inc' },
        args: bin(0x91, 0xd4, 0x44, 0x00, 0x00),
        deps: [0],
        opts: { timeoutMs: 500, retries: 2, resources: { GPU: 1 }, workers: ['w1'] },
        keep: true,
      },
      { id: 2, fn: { kind: 'module', url: 'file:///t.js', exportName: 'f' }, args: bin(0x90) },
    ],
  },
  { kind: 'cancel', ids: [1, 2] },
  { kind: 'release', ids: [0] },
  { kind: 'gather', ids: [1] },
  {
    kind: 'scatter',
    items: [
      { id: 7, value: bin(0xa1, 0x78) },
      { id: 8, value: bin(0x01), workers: ['w1'] },
    ],
  },
  { kind: 'ping', seq: 42 },
  { kind: 'await', ids: [3, 0] },
]

export const COORDINATOR_TO_CLIENT: CoordinatorToClient[] = [
  {
    kind: 'welcome',
    version: PROTOCOL_VERSION,
    clientId: 'c1',
    maxPayload: 16 << 20,
    coordinator: { name: 'coord', versions, workers: 2, procs: 8 },
  },
  { kind: 'refuse', code: ErrorCode.AUTH, message: 'no' },
  { kind: 'running', ids: [0, 1] },
  { kind: 'results', items: [{ id: 0, value: bin(0x02) }, { id: 1 }, { id: 4, held: 1 << 20 }] },
  { kind: 'errors', items: [{ id: 2, error: serializeError(new TypeError('bad', { cause: 1 })) }] },
  { kind: 'cancelled', ids: [3] },
  { kind: 'cluster', workers: 3, procs: 12 },
  { kind: 'pong', seq: 42 },
]

export const WORKER_TO_COORDINATOR: WorkerToCoordinator[] = [
  {
    kind: 'hello',
    version: PROTOCOL_VERSION,
    role: 'worker',
    name: 'w1',
    host: 'box',
    pid: 1234,
    procs: 4,
    resources: { GPU: 2, 'fast-disk': 0.5 },
    memoryBytes: 8e9,
    versions,
  },
  {
    kind: 'results',
    items: [
      { key: 'c1:0', value: bin(0x02), size: 1, durationMs: 0.25 },
      { key: 'c1:1', size: 1000, durationMs: 3 },
    ],
  },
  {
    kind: 'errors',
    items: [{ key: 'c1:2', error: serializeError(new Error('x')), durationMs: 1 }],
  },
  { kind: 'stealReply', given: ['c1:3'], kept: ['c1:4'] },
  { kind: 'data', items: [{ key: 'c1:1', value: bin(0x02) }], missing: ['c1:9'] },
  { kind: 'leaving', returned: ['c1:5'] },
  { kind: 'nested', items: [{ key: 'c1:5', payload: new Uint8Array([0x91, 0x80]) }] },
  { kind: 'seceded', keys: ['c1:5'] },
  { kind: 'rejoined', keys: ['c1:5'] },
  {
    kind: 'heartbeat',
    running: 4,
    queued: 1,
    cpu: 3.5,
    memoryRss: 3e8,
    heldBytes: 5e8,
    memory: {
      limitBytes: 4e8,
      managedBytes: 1e8,
      spilledBytes: 4e8,
      spilledCount: 25,
      rssBytes: 3e8,
      state: 'paused',
    },
  },
  { kind: 'memoryPause', paused: true },
  { kind: 'dataLost', keys: ['c1:2'], returned: ['c1:3'] },
]

export const COORDINATOR_TO_WORKER: CoordinatorToWorker[] = [
  {
    kind: 'welcome',
    version: PROTOCOL_VERSION,
    workerId: 'w-1',
    heartbeatIntervalMs: 1000,
    maxPayload: 1 << 20,
    holdResultsOverBytes: 65536,
  },
  { kind: 'refuse', code: ErrorCode.VERSION_MISMATCH, message: 'v2 only' },
  {
    kind: 'assign',
    tasks: [
      { key: 'c1:0', fn, args: bin(0x91, 0x01), attempt: 1 },
      {
        key: 'c1:1',
        fn: { kind: 'source', hash: 'h4sh', name: 'inc' },
        args: bin(0x91, 0xd4, 0x44, 0x00, 0x00),
        deps: [
          { id: 0, key: 'c1:0', value: bin(0x02) },
          { id: 5, key: 'c2:5' },
          { id: 6, key: 'c2:6', value: bin(0x03), keep: true },
        ],
        opts: { priority: -1 },
        attempt: 2,
        keep: false,
      },
    ],
  },
  { kind: 'cancel', keys: ['c1:0'] },
  { kind: 'steal', keys: ['c1:3', 'c1:4'] },
  { kind: 'fetch', keys: ['c1:1'] },
  { kind: 'store', items: [{ key: 'c1:7', value: bin(0x02) }] },
  { kind: 'release', keys: ['c1:1'] },
  { kind: 'shutdown', reason: 'coordinator stopping' },
  { kind: 'nested', items: [{ key: 'c1:5', payload: new Uint8Array([0x91, 0x80]) }] },
]

export const FIXTURES: Record<Direction, Message[]> = {
  [Direction.CLIENT_TO_COORDINATOR]: CLIENT_TO_COORDINATOR,
  [Direction.COORDINATOR_TO_CLIENT]: COORDINATOR_TO_CLIENT,
  [Direction.WORKER_TO_COORDINATOR]: WORKER_TO_COORDINATOR,
  [Direction.COORDINATOR_TO_WORKER]: COORDINATOR_TO_WORKER,
}
