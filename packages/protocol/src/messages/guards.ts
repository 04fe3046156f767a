/**
 * Hand-written field guards for decoded messages. They run on every task of every batch, so a
 * check is a `typeof` or two, and a description of the problem (with its path) is built only
 * when something is wrong.
 */
import { MAX_ERROR_NESTING, isSerializedError } from '../errors/serialize.js'
import { validateTaskOptions } from '../task/options.js'
import { nestsWithin } from '../values/nesting.js'
import { SHOWN_CHARS, previewBigInt, previewKey } from '../values/preview.js'
import { PROTOCOL_VERSION } from '../version.js'

/** A decoded msgpack map. */
export type Obj = Record<string, unknown>

/** What is wrong with a message: `field ${path} ${problem}`. */
export interface Invalid {
  /** Where, relative to the object checked: `tasks[2].fn.hash`; '' for the object itself. */
  path: string
  problem: string
  /** Set when the problem is the protocol version (reported as `VersionMismatchError`). */
  versionMismatch?: boolean
}

/** Checks one message (or part of one); `undefined` when it is fine. */
export type Check = (o: Obj) => Invalid | undefined

export function invalid(path: string, expected: string, got: unknown): Invalid {
  return { path, problem: `must be ${expected}, got ${describe(got)}` }
}

/** Puts `inner` under `prefix`: `nest('tasks[2]', {path: 'fn.hash'})` → `tasks[2].fn.hash`. */
export function nest(prefix: string, inner: Invalid): Invalid {
  inner.path =
    inner.path === ''
      ? prefix
      : inner.path[0] === '.'
        ? prefix + inner.path
        : `${prefix}.${inner.path}`
  return inner
}

/**
 * A short description of a value's type, for messages. Never prints a value whole (see
 * `values/preview.ts`): a long string is `a string of N characters`, a big BigInt is
 * `bigint beyond 64 bits`.
 */
export function describe(v: unknown): string {
  if (v === null) return 'null'
  if (Array.isArray(v)) return 'an array'
  if (v instanceof Uint8Array) return 'bytes'
  if (typeof v === 'object') {
    const proto: unknown = Object.getPrototypeOf(v)
    if (proto === Object.prototype || proto === null) return 'an object'
    const name = (v as { constructor?: { name?: unknown } }).constructor?.name
    return typeof name === 'string' ? `a ${name}` : 'an object'
  }
  if (typeof v === 'string') {
    return v.length > SHOWN_CHARS
      ? `a string of ${v.length} characters`
      : `the string ${JSON.stringify(v)}`
  }
  if (typeof v === 'bigint') return `bigint ${previewBigInt(v)}`
  if (typeof v === 'number' || typeof v === 'boolean') return `${typeof v} ${String(v)}`
  return typeof v
}

/** A decoded msgpack map (not an array, a Map, a Date, an Error…). */
export function isObj(v: unknown): v is Obj {
  if (typeof v !== 'object' || v === null) return false
  const proto: unknown = Object.getPrototypeOf(v)
  return proto === Object.prototype || proto === null
}

/** Non-negative safe integer: ids, counts, pids. */
export function isCount(v: unknown): v is number {
  return Number.isSafeInteger(v) && (v as number) >= 0
}

/** Non-negative finite number: durations, sizes, loads. */
export function isAmount(v: unknown): v is number {
  return typeof v === 'number' && v >= 0 && v !== Infinity
}

export function str(o: Obj, key: string): Invalid | undefined {
  const v = o[key]
  return typeof v === 'string' ? undefined : invalid(key, 'a string', v)
}

export function nonEmptyStr(o: Obj, key: string): Invalid | undefined {
  const v = o[key]
  return typeof v === 'string' && v !== '' ? undefined : invalid(key, 'a non-empty string', v)
}

export function optStr(o: Obj, key: string): Invalid | undefined {
  const v = o[key]
  return v === undefined || typeof v === 'string' ? undefined : invalid(key, 'a string', v)
}

export function bool(o: Obj, key: string): Invalid | undefined {
  const v = o[key]
  return typeof v === 'boolean' ? undefined : invalid(key, 'a boolean', v)
}

export function optBool(o: Obj, key: string): Invalid | undefined {
  const v = o[key]
  return v === undefined || typeof v === 'boolean' ? undefined : invalid(key, 'a boolean', v)
}

export function count(o: Obj, key: string): Invalid | undefined {
  const v = o[key]
  return isCount(v) ? undefined : invalid(key, 'a non-negative integer', v)
}

export function positiveInt(o: Obj, key: string): Invalid | undefined {
  const v = o[key]
  return isCount(v) && v > 0 ? undefined : invalid(key, 'a positive integer', v)
}

export function amount(o: Obj, key: string): Invalid | undefined {
  const v = o[key]
  return isAmount(v) ? undefined : invalid(key, 'a non-negative finite number', v)
}

export function bytes(o: Obj, key: string): Invalid | undefined {
  const v = o[key]
  return v instanceof Uint8Array ? undefined : invalid(key, 'bytes (msgpack bin)', v)
}

export function optBytes(o: Obj, key: string): Invalid | undefined {
  const v = o[key]
  return v === undefined || v instanceof Uint8Array
    ? undefined
    : invalid(key, 'bytes (msgpack bin)', v)
}

/** An array of client task ids. */
export function ids(o: Obj, key: string): Invalid | undefined {
  const v = o[key]
  if (!Array.isArray(v)) return invalid(key, 'an array of task ids', v)
  for (let i = 0; i < v.length; i++) {
    if (!isCount(v[i])) return invalid(`${key}[${i}]`, 'a non-negative integer', v[i])
  }
  return undefined
}

export function optIds(o: Obj, key: string): Invalid | undefined {
  return o[key] === undefined ? undefined : ids(o, key)
}

/** An array of task keys. */
export function keys(o: Obj, key: string): Invalid | undefined {
  const v = o[key]
  if (!Array.isArray(v)) return invalid(key, 'an array of task keys', v)
  for (let i = 0; i < v.length; i++) {
    if (typeof v[i] !== 'string') return invalid(`${key}[${i}]`, 'a string', v[i])
  }
  return undefined
}

export function optKeys(o: Obj, key: string): Invalid | undefined {
  return o[key] === undefined ? undefined : keys(o, key)
}

/** `o[key]` must equal `PROTOCOL_VERSION`; checked first, so a peer of another version hears so. */
export function version(o: Obj, key: string): Invalid | undefined {
  const v = o[key]
  if (v === PROTOCOL_VERSION) return undefined
  if (!isCount(v)) return invalid(key, 'a non-negative integer', v)
  return {
    path: key,
    problem: `is ${v}: the peer speaks protocol version ${v}, this side speaks ${PROTOCOL_VERSION}`,
    versionMismatch: true,
  }
}

/** An array of objects, each checked by `check`. */
export function items(o: Obj, key: string, check: Check): Invalid | undefined {
  const v = o[key]
  if (!Array.isArray(v)) return invalid(key, 'an array', v)
  for (let i = 0; i < v.length; i++) {
    const item: unknown = v[i]
    if (!isObj(item)) return invalid(`${key}[${i}]`, 'an object', item)
    const bad = check(item)
    if (bad) return nest(`${key}[${i}]`, bad)
  }
  return undefined
}

/** A nested object checked by `check`. */
export function sub(o: Obj, key: string, check: Check): Invalid | undefined {
  const v = o[key]
  if (!isObj(v)) return invalid(key, 'an object', v)
  const bad = check(v)
  return bad ? nest(key, bad) : undefined
}

/** A `Record<string, number>` of non-negative amounts. */
export function amounts(o: Obj, key: string): Invalid | undefined {
  const v = o[key]
  if (!isObj(v)) return invalid(key, 'an object of numbers', v)
  for (const name of Object.keys(v)) {
    if (!isAmount(v[name]))
      return invalid(`${key}.${previewKey(name)}`, 'a non-negative finite number', v[name])
  }
  return undefined
}

export function serializedError(o: Obj, key: string): Invalid | undefined {
  const v = o[key]
  if (!isObj(v) || !isSerializedError(v)) {
    return invalid(key, 'a serialized error ({ name, message, stack?, code?, cause?, props? })', v)
  }
  // It is passed on (to the client) and rebuilt as it came, unknown fields and all.
  if (!nestsWithin(v, MAX_ERROR_NESTING)) {
    return { path: key, problem: `nests deeper than ${MAX_ERROR_NESTING} levels` }
  }
  return undefined
}

/**
 * No field of `o` holds an object or an array. For objects the receiver keeps and passes on
 * whole (a function reference, `versions`), so that no unchecked field can carry a value nested
 * too deep to encode again (see `values/nesting.ts`).
 */
export function flat(o: Obj): Invalid | undefined {
  for (const key in o) {
    const v = o[key]
    if (typeof v === 'object' && v !== null) return invalid(previewKey(key), 'a string', v)
  }
  return undefined
}

/** A function reference, `source` possibly left out. */
export const fnRef: Check = (o) => {
  switch (o.kind) {
    case 'source':
      return str(o, 'hash') ?? str(o, 'name') ?? optStr(o, 'source') ?? flat(o)
    case 'module':
      return str(o, 'url') ?? str(o, 'exportName') ?? flat(o)
    default:
      return invalid('kind', "'source' or 'module'", o.kind)
  }
}

/**
 * Task options, checked by `validateTaskOptions` (and replaced in `o` by its frozen copy).
 * Its messages read `${where}.timeoutMs must be …`; with `where` empty, they split into a path
 * and a problem at the first space.
 */
export function optOpts(o: Obj, key: string): Invalid | undefined {
  const v = o[key]
  if (v === undefined) return undefined
  try {
    o[key] = validateTaskOptions(v, '')
    return undefined
  } catch (err) {
    const text = err instanceof Error ? err.message : String(err)
    const space = text.indexOf(' ')
    return { path: key + text.slice(0, space), problem: text.slice(space + 1) }
  }
}

/** `{ node, clusterpool }` versions. */
export const versions: Check = (o) => str(o, 'node') ?? str(o, 'clusterpool') ?? flat(o)

/** `role` must be exactly `expected`. */
export function role(o: Obj, expected: string): Invalid | undefined {
  return o.role === expected ? undefined : invalid('role', `'${expected}'`, o.role)
}

/** A lookup table from a direction's kinds to their checks; `Record` makes it complete. */
export function table<K extends string>(checks: Record<K, Check>): ReadonlyMap<string, Check> {
  return new Map<string, Check>(Object.entries<Check>(checks))
}
