export { ErrorCode } from './errors/codes.js'
export {
  AbortedError,
  AuthError,
  BrokenExecutorError,
  CancelledError,
  ClusterpoolError,
  ConnectionLostError,
  DataLostError,
  DependencyError,
  ExecutorShutdownError,
  InvalidOptionError,
  InvalidStateError,
  InvalidTaskError,
  KilledWorkerError,
  NoWorkerError,
  PayloadTooLargeError,
  ProtocolError,
  TaskError,
  TaskScopeError,
  TaskTimeoutError,
  TimeoutError,
  UnsendableValueError,
  VersionMismatchError,
  WorkerDiedError,
} from './errors/errors.js'
export { deserializeError, isSerializedError, serializeError } from './errors/serialize.js'
export { detachBytes } from './values/bytes.js'
export { createDecoder, createEncoder, encodeValue } from './values/codec.js'
export { checkSendable } from './values/sendable.js'
export { fnKey, fnLabel, moduleFnRef, sourceFnRef } from './task/fn-ref.js'
export { validateTaskOptions } from './task/options.js'
export * from './messages/index.js'

export type { ClusterpoolErrorOptions } from './errors/errors.js'
export type { SerializedError } from './errors/serialize.js'
export type { Decoder, Encoder } from './values/codec.js'
export type { SendableReport } from './values/sendable.js'
export type { FnRef, ModuleFnRef, SourceFnRef } from './task/fn-ref.js'
export type { TaskOptions } from './task/options.js'
