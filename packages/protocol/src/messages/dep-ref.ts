/**
 * Dependency placeholders. When a future is passed as a task argument (anywhere inside it), the
 * client puts `depRef(future's id)` in its place and lists the id in `SubmitTask.deps`. The
 * placeholder travels inside the encoded arguments as a msgpack extension; the worker decodes
 * the arguments, finds the placeholders (`collectDeps`) and puts the dependencies' values in
 * their place (`substituteDeps`), using `AssignTask.deps` to map ids to values.
 */
import { addExtension } from 'msgpackr'

import { allowSendableClass } from '../values/sendable.js'

/** The msgpack extension type of a `DepRef` ('D'; msgpackr's own and the codec's are elsewhere). */
export const DEP_REF_EXTENSION_TYPE = 0x44

/** Stands for the value of the task (or scattered value) with client id `id`. */
export class DepRef {
  constructor(readonly id: number) {}
}

/** A placeholder for the client task or scattered value `id`. */
export function depRef(id: number): DepRef {
  if (!Number.isSafeInteger(id) || id < 0) {
    throw new TypeError(`a dependency id must be a non-negative integer, got ${String(id)}`)
  }
  return new DepRef(id)
}

export function isDepRef(value: unknown): value is DepRef {
  return value instanceof DepRef
}

addExtension({
  Class: DepRef,
  type: DEP_REF_EXTENSION_TYPE,
  write: (ref: DepRef) => ref.id,
  read: (id: unknown) => {
    if (!Number.isSafeInteger(id) || (id as number) < 0) {
      throw new TypeError('malformed dependency reference (msgpack extension 0x44)')
    }
    return new DepRef(id as number)
  },
})
allowSendableClass(DepRef)

/**
 * The ids of every `DepRef` inside `value` (arrays, plain objects, Maps and Sets), each once,
 * in the order first met.
 */
export function collectDeps(value: unknown): number[] {
  const found = new Set<number>()
  collect(value, found)
  return [...found]
}

function collect(value: unknown, found: Set<number>): void {
  if (typeof value !== 'object' || value === null) return
  if (value instanceof DepRef) {
    found.add(value.id)
  } else if (Array.isArray(value)) {
    for (const v of value) collect(v, found)
  } else if (value instanceof Map) {
    for (const [k, v] of value) {
      collect(k, found)
      collect(v, found)
    }
  } else if (value instanceof Set) {
    for (const v of value) collect(v, found)
  } else if (isPlain(value)) {
    for (const key of Object.keys(value)) collect((value as Record<string, unknown>)[key], found)
  }
}

/**
 * `value` with every `DepRef` replaced by `lookup(ref.id)`. Copies only the arrays, objects,
 * Maps and Sets on the way to a placeholder; returns `value` itself when it holds none. Throws
 * whatever `lookup` throws (for an id it does not know, say).
 */
export function substituteDeps(value: unknown, lookup: (id: number) => unknown): unknown {
  return substitute(value, lookup)
}

function substitute(value: unknown, lookup: (id: number) => unknown): unknown {
  if (typeof value !== 'object' || value === null) return value
  if (value instanceof DepRef) return lookup(value.id)
  if (Array.isArray(value)) {
    let out: unknown[] | undefined
    for (let i = 0; i < value.length; i++) {
      const v: unknown = value[i]
      const s = substitute(v, lookup)
      if (s !== v && out === undefined) out = value.slice()
      if (out !== undefined) out[i] = s
    }
    return out ?? value
  }
  if (value instanceof Map) {
    let changed = false
    const entries: [unknown, unknown][] = []
    for (const [k, v] of value) {
      const sk = substitute(k, lookup)
      const sv = substitute(v, lookup)
      if (sk !== k || sv !== v) changed = true
      entries.push([sk, sv])
    }
    return changed ? new Map(entries) : value
  }
  if (value instanceof Set) {
    let changed = false
    const members: unknown[] = []
    for (const v of value) {
      const s = substitute(v, lookup)
      if (s !== v) changed = true
      members.push(s)
    }
    return changed ? new Set(members) : value
  }
  if (!isPlain(value)) return value
  const obj = value as Record<string, unknown>
  let out: Record<string, unknown> | undefined
  for (const key of Object.keys(obj)) {
    const v = obj[key]
    const s = substitute(v, lookup)
    if (s === v) continue
    out ??= { ...obj }
    // Defined, not assigned: an own `__proto__` key must stay a key.
    Object.defineProperty(out, key, {
      value: s,
      writable: true,
      enumerable: true,
      configurable: true,
    })
  }
  return out ?? value
}

function isPlain(value: object): boolean {
  const proto: unknown = Object.getPrototypeOf(value)
  return proto === Object.prototype || proto === null
}
