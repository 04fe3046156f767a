/** Checks for the messages between a client and the coordinator (shapes in `client.ts`). */
import type { Check } from './guards.js'
import {
  bytes,
  count,
  fnRef,
  ids,
  items,
  optBool,
  optBytes,
  optIds,
  optKeys,
  optOpts,
  optStr,
  positiveInt,
  role,
  serializedError,
  str,
  sub,
  table,
  version,
  versions,
} from './guards.js'
import type { ClientToCoordinatorKind, CoordinatorToClientKind } from './kinds.js'

// ─── client → coordinator ────────────────────────────────────────────────────────────────

const clientResume: Check = (r) => str(r, 'clientId') ?? str(r, 'resumeToken') ?? ids(r, 'held')

export const checkClientHello: Check = (m) =>
  version(m, 'version') ??
  role(m, 'client') ??
  optStr(m, 'name') ??
  (m.maxPayload === undefined ? undefined : positiveInt(m, 'maxPayload')) ??
  (m.resume === undefined ? undefined : sub(m, 'resume', clientResume))

const submitTask: Check = (t) =>
  count(t, 'id') ??
  sub(t, 'fn', fnRef) ??
  bytes(t, 'args') ??
  optIds(t, 'deps') ??
  optOpts(t, 'opts') ??
  optBool(t, 'keep') ??
  optBool(t, 'chunk') ??
  optBool(t, 'ran')

const scatterItem: Check = (t) => count(t, 'id') ?? bytes(t, 'value') ?? optKeys(t, 'workers')

export const CLIENT_TO_COORDINATOR = table<ClientToCoordinatorKind>({
  hello: checkClientHello,
  submit: (m) => items(m, 'tasks', submitTask),
  cancel: (m) => ids(m, 'ids'),
  release: (m) => ids(m, 'ids'),
  gather: (m) => ids(m, 'ids'),
  scatter: (m) => items(m, 'items', scatterItem),
  ping: (m) => count(m, 'seq'),
  await: (m) => ids(m, 'ids'),
})

// ─── coordinator → client ────────────────────────────────────────────────────────────────

const coordinatorInfo: Check = (o) =>
  str(o, 'name') ?? sub(o, 'versions', versions) ?? count(o, 'workers') ?? count(o, 'procs')

const resultItem: Check = (t) =>
  count(t, 'id') ?? optBytes(t, 'value') ?? (t.held === undefined ? undefined : count(t, 'held'))
const errorItem: Check = (t) => count(t, 'id') ?? serializedError(t, 'error')

/** `refuse`, the same towards clients and workers. */
export const checkRefuse: Check = (m) => str(m, 'code') ?? str(m, 'message')

export const COORDINATOR_TO_CLIENT = table<CoordinatorToClientKind>({
  welcome: (m) =>
    version(m, 'version') ??
    str(m, 'clientId') ??
    count(m, 'maxPayload') ??
    sub(m, 'coordinator', coordinatorInfo) ??
    optStr(m, 'resumeToken'),
  refuse: checkRefuse,
  running: (m) => ids(m, 'ids'),
  results: (m) => items(m, 'items', resultItem),
  errors: (m) => items(m, 'items', errorItem),
  cancelled: (m) => ids(m, 'ids'),
  cluster: (m) => count(m, 'workers') ?? count(m, 'procs'),
  pong: (m) => count(m, 'seq'),
})
