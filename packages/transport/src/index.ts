// @clusterpool/transport: links to peers for the wire protocol. A `Connection` over WebSocket, a
// `LoopbackEnd` pair in one process, both behind `MessageSink`; `openSession` dials and greets.
export { Connection } from './connection.js'
export { Outbox } from './outbox.js'
export { LoopbackEnd } from './loopback.js'
export { FrameLink } from './frame-link.js'
export { DEFAULT_DIAL_MAX_PAYLOAD, openSession } from './dial.js'
export { CLUSTERPOOL_VERSION } from './version.js'

export type { ConnectionHandlers, ConnectionOptions } from './connection.js'
export type { ItemOf, ItemsKey, MessageSink, OfKind } from './outbox.js'
export type { DialOptions, Session } from './dial.js'
