/** Checks for the messages between a worker and the coordinator (shapes in `worker.ts`). */
import type { Check } from './guards.js'
import {
  amount,
  amounts,
  bool,
  bytes,
  count,
  fnRef,
  items,
  keys,
  nonEmptyStr,
  optBool,
  optBytes,
  optKeys,
  optOpts,
  positiveInt,
  role,
  serializedError,
  str,
  sub,
  table,
  version,
  versions,
} from './guards.js'
import type { CoordinatorToWorkerKind, WorkerToCoordinatorKind } from './kinds.js'
import { checkRefuse } from './validate-client.js'

// ─── worker → coordinator ────────────────────────────────────────────────────────────────

const heldItem: Check = (t) => str(t, 'key') ?? count(t, 'size')
const inventory: Check = (i) => keys(i, 'tasks') ?? items(i, 'held', heldItem)

export const checkWorkerHello: Check = (m) =>
  version(m, 'version') ??
  role(m, 'worker') ??
  nonEmptyStr(m, 'name') ??
  str(m, 'host') ??
  count(m, 'pid') ??
  positiveInt(m, 'procs') ??
  amounts(m, 'resources') ??
  amount(m, 'memoryBytes') ??
  sub(m, 'versions', versions) ??
  (m.inventory === undefined ? undefined : sub(m, 'inventory', inventory))

const resultItem: Check = (t) =>
  str(t, 'key') ?? optBytes(t, 'value') ?? count(t, 'size') ?? amount(t, 'durationMs')

const errorItem: Check = (t) =>
  str(t, 'key') ?? serializedError(t, 'error') ?? amount(t, 'durationMs')

const dataItem: Check = (t) => str(t, 'key') ?? bytes(t, 'value')

const nestedItem: Check = (t) => str(t, 'key') ?? bytes(t, 'payload')
const heartbeatMemory: Check = (t) =>
  amount(t, 'limitBytes') ??
  amount(t, 'managedBytes') ??
  amount(t, 'spilledBytes') ??
  count(t, 'spilledCount') ??
  amount(t, 'rssBytes') ??
  str(t, 'state')

export const WORKER_TO_COORDINATOR = table<WorkerToCoordinatorKind>({
  hello: checkWorkerHello,
  heartbeat: (m) =>
    count(m, 'running') ??
    count(m, 'queued') ??
    amount(m, 'cpu') ??
    amount(m, 'memoryRss') ??
    amount(m, 'heldBytes') ??
    (m.memory === undefined ? undefined : sub(m, 'memory', heartbeatMemory)),
  results: (m) => items(m, 'items', resultItem),
  errors: (m) => items(m, 'items', errorItem),
  stealReply: (m) => keys(m, 'given') ?? keys(m, 'kept'),
  data: (m) => items(m, 'items', dataItem) ?? optKeys(m, 'missing'),
  leaving: (m) => keys(m, 'returned'),
  nested: (m) => items(m, 'items', nestedItem),
  seceded: (m) => keys(m, 'keys'),
  rejoined: (m) => keys(m, 'keys'),
  memoryPause: (m) => bool(m, 'paused'),
  dataLost: (m) => keys(m, 'keys') ?? keys(m, 'returned'),
})

// ─── coordinator → worker ────────────────────────────────────────────────────────────────

const assignDep: Check = (d) =>
  count(d, 'id') ?? str(d, 'key') ?? optBytes(d, 'value') ?? optBool(d, 'keep')

const assignTask: Check = (t) =>
  str(t, 'key') ??
  sub(t, 'fn', fnRef) ??
  bytes(t, 'args') ??
  (t.deps === undefined ? undefined : items(t, 'deps', assignDep)) ??
  optOpts(t, 'opts') ??
  positiveInt(t, 'attempt') ??
  optBool(t, 'keep') ??
  optBool(t, 'chunk')

export const COORDINATOR_TO_WORKER = table<CoordinatorToWorkerKind>({
  welcome: (m) =>
    version(m, 'version') ??
    str(m, 'workerId') ??
    positiveInt(m, 'heartbeatIntervalMs') ??
    count(m, 'maxPayload') ??
    (m.holdResultsOverBytes === undefined ? undefined : count(m, 'holdResultsOverBytes')),
  refuse: checkRefuse,
  assign: (m) => items(m, 'tasks', assignTask),
  cancel: (m) => keys(m, 'keys'),
  steal: (m) => keys(m, 'keys'),
  fetch: (m) => keys(m, 'keys'),
  store: (m) => items(m, 'items', dataItem),
  release: (m) => keys(m, 'keys'),
  shutdown: (m) => str(m, 'reason'),
  nested: (m) => items(m, 'items', nestedItem),
})
