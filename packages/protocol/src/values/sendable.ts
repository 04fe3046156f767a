import { UnsendableValueError } from '../errors/errors.js'

/**
 * What `checkSendable` found: whether the value holds a Map anywhere (Maps take a slower,
 * copying encode path; everything else is encoded as it is).
 */
export interface SendableReport {
  hasMap: boolean
}

const MAX_DEPTH = 1000

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
  const report: SendableReport = { hasMap: false }
  walk(value, label, report, 0, new Set())
  return report
}

function walk(
  value: unknown,
  path: string,
  report: SendableReport,
  depth: number,
  seen: Set<object>,
): void {
  switch (typeof value) {
    case 'number':
    case 'string':
    case 'boolean':
    case 'undefined':
    case 'bigint':
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
  if (seen.has(obj)) throw new UnsendableValueError(path, 'circular reference')
  if (ArrayBuffer.isView(obj) || obj instanceof ArrayBuffer) return
  if (obj instanceof Date || obj instanceof RegExp) return
  seen.add(obj)
  try {
    if (Array.isArray(obj)) {
      for (let i = 0; i < obj.length; i++) walk(obj[i], `${path}[${i}]`, report, depth + 1, seen)
      return
    }
    if (obj instanceof Map) {
      report.hasMap = true
      let i = 0
      for (const [k, v] of obj) {
        walk(k, `${path}.keys()[${i}]`, report, depth + 1, seen)
        walk(v, `${path}.get(${describeKey(k)})`, report, depth + 1, seen)
        i++
      }
      return
    }
    if (obj instanceof Set) {
      let i = 0
      for (const v of obj) walk(v, `${path}.values()[${i++}]`, report, depth + 1, seen)
      return
    }
    if (obj instanceof Error) return
    const proto: unknown = Object.getPrototypeOf(obj)
    if (proto !== Object.prototype && proto !== null) {
      if (sendablePrototypes.has(proto)) return
      throw new UnsendableValueError(path, describeInstance(obj))
    }
    for (const key of Object.keys(obj)) {
      walk((obj as Record<string, unknown>)[key], `${path}.${key}`, report, depth + 1, seen)
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
  const name = (obj.constructor as { name?: unknown } | undefined)?.name
  return typeof name === 'string' && name !== '' ? `${name} instance` : 'class instance'
}
