import { nestsWithin } from '../values/nesting.js'
import { checkSendable } from '../values/sendable.js'
import * as errors from './errors.js'
import { ClusterpoolError, TaskError } from './errors.js'

/** An error as it crosses the wire: enough to rebuild it with its class, stack and cause. */
export interface SerializedError {
  name: string
  message: string
  stack?: string
  /** The error's `code` property, when it had one (ours, or Node's like `ENOENT`). */
  code?: string
  cause?: SerializedError
  /** An `AggregateError`'s `errors` (at most `MAX_AGGREGATED`). */
  errors?: SerializedError[]
  /**
   * Other own enumerable properties that can be sent; `cause` among them when the cause is a
   * sendable value that is not an Error (`new Error('…', { cause: { status: 404 } })`).
   */
  props?: Record<string, unknown>
}

const BUILTINS: Record<string, ErrorConstructor> = {
  Error,
  TypeError,
  RangeError,
  SyntaxError,
  ReferenceError,
  EvalError,
  URIError,
}

type ClusterpoolErrorClass = abstract new (...args: never[]) => ClusterpoolError

const OURS = new Map<string, ClusterpoolErrorClass>()
for (const value of Object.values(errors)) {
  if (typeof value === 'function' && value.prototype instanceof ClusterpoolError) {
    OURS.set(value.name, value)
  }
}

const MAX_CAUSE_DEPTH = 8
/** How many of an `AggregateError`'s errors are kept. */
const MAX_AGGREGATED = 100
/** How long a thrown non-Error value's description may be in the message. Characters. */
const MAX_THROWN_DESCRIPTION = 500
/** How deep a prop's value may nest; deeper props are left out (see `MAX_ERROR_NESTING`). */
const MAX_PROP_NESTING = 32
/**
 * How deep a serialized error may nest as a whole, its causes and props included; receivers
 * refuse deeper ones, which they could not re-encode or rebuild (`values/nesting.ts`).
 */
export const MAX_ERROR_NESTING = MAX_CAUSE_DEPTH + MAX_PROP_NESTING + 8
const SKIPPED_PROPS = new Set(['name', 'message', 'stack', 'code', 'cause'])

/** Turns anything thrown into a `SerializedError`. Never throws. */
export function serializeError(thrown: unknown, depth = 0): SerializedError {
  if (!(thrown instanceof Error)) return serializeThrownValue(thrown)
  const out: SerializedError = {
    name: safeString(thrown.name),
    message: safeString(thrown.message),
  }
  if (typeof thrown.stack === 'string') out.stack = thrown.stack
  const code = (thrown as { code?: unknown }).code
  if (typeof code === 'string') out.code = code
  const props: Record<string, unknown> = {}
  let any = false
  if (thrown.cause !== undefined && depth < MAX_CAUSE_DEPTH) {
    if (thrown.cause instanceof Error) out.cause = serializeError(thrown.cause, depth + 1)
    else if (isSendableProp(thrown.cause, 'cause')) {
      props.cause = thrown.cause
      any = true
    } else out.cause = serializeError(thrown.cause, depth + 1)
  }
  const aggregated = (thrown as { errors?: unknown }).errors
  // An entry of `errors` is two levels down (the list, then the error): it counts as two
  // causes, so that no mix of causes and lists nests deeper than a chain of causes may.
  if (thrown instanceof AggregateError && Array.isArray(aggregated) && depth + 2 <= MAX_CAUSE_DEPTH)
    out.errors = aggregated.slice(0, MAX_AGGREGATED).map((e) => serializeError(e, depth + 2))
  for (const key of Object.keys(thrown)) {
    if (SKIPPED_PROPS.has(key)) continue
    const value = (thrown as unknown as Record<string, unknown>)[key]
    if (!isSendableProp(value, key)) continue
    props[key] = value
    any = true
  }
  if (any) out.props = props
  return out
}

/**
 * Something thrown that is not an Error (`throw 'x'`, `throw { code: 42 }`): an `Error` that
 * describes it, with a plain object's sendable fields kept as props (and a string `code` as
 * the code), so that `err.code` still says what the task meant.
 */
function serializeThrownValue(thrown: unknown): SerializedError {
  const out: SerializedError = {
    name: 'Error',
    message: `a non-Error value was thrown: ${describeThrown(thrown)}`,
  }
  if (typeof thrown !== 'object' || thrown === null || Array.isArray(thrown)) return out
  const props: Record<string, unknown> = {}
  let any = false
  for (const key of Object.keys(thrown)) {
    const value = (thrown as Record<string, unknown>)[key]
    if (key === 'code' && typeof value === 'string') out.code = value
    else if (!SKIPPED_PROPS.has(key) && isSendableProp(value, key)) {
      props[key] = value
      any = true
    }
  }
  if (any) out.props = props
  return out
}

function describeThrown(thrown: unknown): string {
  let text: string
  if (typeof thrown === 'object' && thrown !== null) {
    try {
      text = JSON.stringify(thrown) ?? safeString(thrown)
    } catch {
      text = safeString(thrown)
    }
  } else text = safeString(thrown)
  return text.length > MAX_THROWN_DESCRIPTION ? `${text.slice(0, MAX_THROWN_DESCRIPTION)}…` : text
}

/** Whether a property's value may travel with its error (sendable, and not nested too deep). */
function isSendableProp(value: unknown, key: string): boolean {
  try {
    checkSendable(value, key)
  } catch {
    return false
  }
  return nestsWithin(value, MAX_PROP_NESTING)
}

/**
 * Rebuilds an error: a built-in class comes back as that class, one of clusterpool's own as its
 * class, and anything else as a `TaskError` carrying the original name.
 */
export function deserializeError(s: SerializedError): Error {
  const options = s.cause === undefined ? undefined : { cause: deserializeError(s.cause) }
  let err: Error
  const builtin = BUILTINS[s.name]
  const ours = OURS.get(s.name)
  if (s.name === 'AggregateError') {
    err = new AggregateError((s.errors ?? []).map(deserializeError), s.message, options)
  } else if (builtin) {
    err = new builtin(s.message, options)
  } else if (ours && s.code) {
    err = Reflect.construct(ClusterpoolError, [s.code, s.message, options], ours) as Error
  } else {
    err = new TaskError(s.name, s.message, options)
  }
  if (s.stack !== undefined) {
    Object.defineProperty(err, 'stack', { value: s.stack, writable: true, configurable: true })
  }
  // Ours carry their code already; a task's own code (Node's `ENOENT`, say) is kept as it was.
  if (s.code !== undefined && (!(err instanceof ClusterpoolError) || err instanceof TaskError)) {
    Object.defineProperty(err, 'code', {
      value: s.code,
      writable: true,
      configurable: true,
      enumerable: true,
    })
  }
  if (s.props) {
    for (const [k, v] of Object.entries(s.props)) {
      if (k === '__proto__' || k === 'constructor') continue
      Object.defineProperty(err, k, {
        value: v,
        writable: true,
        configurable: true,
        enumerable: true,
      })
    }
  }
  return err
}

/** Checks the shape of an untrusted serialized error. */
export function isSerializedError(v: unknown, depth = 0): v is SerializedError {
  if (typeof v !== 'object' || v === null || depth > MAX_CAUSE_DEPTH + 1) return false
  const o = v as Record<string, unknown>
  return (
    typeof o.name === 'string' &&
    typeof o.message === 'string' &&
    (o.stack === undefined || typeof o.stack === 'string') &&
    (o.code === undefined || typeof o.code === 'string') &&
    (o.cause === undefined || isSerializedError(o.cause, depth + 1)) &&
    (o.errors === undefined ||
      (Array.isArray(o.errors) &&
        o.errors.length <= MAX_AGGREGATED &&
        o.errors.every((e) => isSerializedError(e, depth + 2)))) &&
    (o.props === undefined || (typeof o.props === 'object' && o.props !== null))
  )
}

function safeString(v: unknown): string {
  try {
    return String(v)
  } catch {
    return Object.prototype.toString.call(v)
  }
}
