import { UnsendableValueError } from '../errors/errors.js'

/**
 * What `checkSendable` found: whether the value holds a Map anywhere (Maps take a slower,
 * copying encode path; everything else is encoded as it is).
 */
export interface SendableReport {
  hasMap: boolean
}

const MAX_DEPTH = 1000

/**
 * The most bytes a BigInt may take on the wire (two's complement): 4 KiB, so values between
 * -(2 ** 32767) and 2 ** 32767 - 1, about 9,860 decimal digits. Decoders refuse larger ones
 * before building them, as building and printing a BigInt take more than linear time.
 */
export const MAX_BIGINT_BYTES = 4096
const BIGINT_BOUND = 1n << BigInt(MAX_BIGINT_BYTES * 8 - 1)

/** Whether `v` is too large to send (see `MAX_BIGINT_BYTES`). */
function isHugeBigInt(v: bigint): boolean {
  return v >= BIGINT_BOUND || v < -BIGINT_BOUND
}

/** Prototypes of the protocol's own classes that have a msgpack extension (see `allowSendableClass`). */
const sendablePrototypes = new Set<unknown>()

/**
 * Lets instances of one of the protocol's own classes (such as `DepRef`) pass `checkSendable`.
 * Only for classes whose msgpack extension is registered; not part of the public API.
 */
export function allowSendableClass(cls: abstract new (...args: never[]) => object): void {
  sendablePrototypes.add(cls.prototype)
}

/**
 * Walks `value` and throws `UnsendableValueError` naming the first value that cannot cross a
 * process boundary: a function, a symbol, a class instance, a WeakMap, a Promise, a socket…
 * `label` names the root in the message, for example `argument 2`.
 */
export function checkSendable(value: unknown, label: string): SendableReport {
  return { hasMap: holdsMap(value, label) }
}

/**
 * `checkSendable` without the report object: whether `value` holds a Map. The hot path of every
 * task's arguments and result, so it allocates nothing for values made of primitives, arrays and
 * plain objects of primitives: a child's path is only spelled out when the child is an object
 * (or is refused), and the ancestor set only exists once the walk goes below the root.
 */
export function holdsMap(value: unknown, label: string): boolean {
  if (!needsWalk(value)) return false
  const state: WalkState = { hasMap: false, seen: undefined }
  walk(value, label, state, 0)
  return state.hasMap
}

interface WalkState {
  hasMap: boolean
  /** The objects on the path from the root to the value being walked (circularity check). */
  seen: Set<object> | undefined
}

/** Whether `walk` has anything to do for `value`: objects are walked, functions and symbols refused. */
function needsWalk(value: unknown): boolean {
  const type = typeof value
  return (
    (type === 'object' && value !== null) ||
    type === 'function' ||
    type === 'symbol' ||
    (type === 'bigint' && isHugeBigInt(value as bigint))
  )
}

function walk(value: unknown, path: string, state: WalkState, depth: number): void {
  switch (typeof value) {
    case 'number':
    case 'string':
    case 'boolean':
    case 'undefined':
      return
    case 'bigint':
      if (isHugeBigInt(value)) {
        throw new UnsendableValueError(path, `BigInt over ${MAX_BIGINT_BYTES * 8} bits`)
      }
      return
    case 'function':
      throw new UnsendableValueError(path, describeFunction(value as (...a: unknown[]) => unknown))
    case 'symbol':
      throw new UnsendableValueError(path, 'symbol')
    case 'object':
      break
  }
  if (value === null) return
  const obj = value
  if (depth > MAX_DEPTH)
    throw new UnsendableValueError(path, `value nested deeper than ${MAX_DEPTH} levels`)
  if (state.seen?.has(obj)) throw new UnsendableValueError(path, 'circular reference')
  if (ArrayBuffer.isView(obj) || obj instanceof ArrayBuffer) return
  if (obj instanceof Date || obj instanceof RegExp) return
  // An array of primitives (a task's usual arguments) has no child to walk: no ancestor set.
  if (Array.isArray(obj) && !obj.some(needsWalk)) return
  const seen = (state.seen ??= new Set())
  seen.add(obj)
  try {
    if (Array.isArray(obj)) {
      for (let i = 0; i < obj.length; i++) {
        const item: unknown = obj[i]
        if (needsWalk(item)) walk(item, `${path}[${i}]`, state, depth + 1)
      }
      return
    }
    if (obj instanceof Map) {
      state.hasMap = true
      let i = 0
      for (const [k, v] of obj) {
        if (needsWalk(k)) walk(k, `${path}.keys()[${i}]`, state, depth + 1)
        if (needsWalk(v)) walk(v, `${path}.get(${describeKey(k)})`, state, depth + 1)
        i++
      }
      return
    }
    if (obj instanceof Set) {
      let i = 0
      for (const v of obj) {
        if (needsWalk(v)) walk(v, `${path}.values()[${i}]`, state, depth + 1)
        i++
      }
      return
    }
    if (obj instanceof Error) return
    const proto: unknown = Object.getPrototypeOf(obj)
    if (proto !== Object.prototype && proto !== null) {
      if (sendablePrototypes.has(proto)) return
      throw new UnsendableValueError(path, describeInstance(obj))
    }
    for (const key of Object.keys(obj)) {
      const item = (obj as Record<string, unknown>)[key]
      if (needsWalk(item)) walk(item, `${path}.${key}`, state, depth + 1)
    }
  } finally {
    seen.delete(obj)
  }
}

function describeKey(key: unknown): string {
  return typeof key === 'string' ? JSON.stringify(key) : String(key)
}

function describeFunction(fn: (...a: unknown[]) => unknown): string {
  return fn.name ? `function (${fn.name})` : 'function'
}

function describeInstance(obj: object): string {
  const tag = Object.prototype.toString.call(obj)
  if (tag === '[object Generator]' || tag === '[object AsyncGenerator]')
    return 'generator object (iterate it in the task, or send its values as an array)'
  const name = (obj.constructor as { name?: unknown } | undefined)?.name
  return typeof name === 'string' && name !== '' ? `${name} instance` : 'class instance'
}
