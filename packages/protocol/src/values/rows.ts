import { addExtension } from 'msgpackr'

/**
 * Lists of like objects as rows: how a frame carries its `tasks` and `items` lists.
 *
 * A batch of a thousand tasks is a thousand objects with the same keys, and most of them share
 * their `fn` reference. As plain msgpack maps, every object spells out every key and every
 * `fn` is written (and decoded into a new object) again. As rows, each distinct key list (a
 * "shape") is written once per list, each object as its shape's index followed by its values,
 * and a plain-object value (`fn`, `opts`, `error`…) once per list, referred to by index: one
 * `fn` object per frame on the other side instead of one per task. The objects that come out
 * are the objects that went in (same keys in the same order, same values); only objects that
 * were one object on the way out are one object on the way in.
 *
 * It is a msgpack extension (type `ROWS_EXTENSION_TYPE`) of the frame codec, decoded by the
 * same `Unpackr` as the rest of the frame; decoding checks the layout and throws on anything
 * malformed, and the frame's messages are validated afterwards as usual.
 *
 * ```
 * payload: [shapes, shared, count, row…]
 *   shapes: [[key, isShared, key, isShared, …], …]   isShared: 1 = the value is an index in shared
 *   shared: [object, …]
 *   row:    shapeIndex, value…                          (one value per key of the shape)
 * ```
 */
export class Rows {
  constructor(readonly items: readonly Record<string, unknown>[]) {}
}

/** msgpack extension type of `Rows` (`W`). */
export const ROWS_EXTENSION_TYPE = 0x57

/** Lists shorter than this travel as plain maps: a shape table costs more than it saves. */
const MIN_ROWS = 8

interface Shape {
  readonly index: number
  readonly keys: string[]
  readonly shared: boolean[]
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return (
    typeof value === 'object' && value !== null && Object.getPrototypeOf(value) === Object.prototype
  )
}

/** `list` as `Rows` when it is worth it (`MIN_ROWS` or more plain objects), else `list` itself. */
export function asRows(list: unknown): unknown {
  if (!Array.isArray(list) || list.length < MIN_ROWS) return list
  for (const item of list) if (!isPlainObject(item)) return list
  return new Rows(list as Record<string, unknown>[])
}

/** Whether `item` has exactly `shape`'s own enumerable keys, in order, with the same kinds of value. */
function fits(item: Record<string, unknown>, shape: Shape): boolean {
  let i = 0
  for (const key in item) {
    if (!Object.hasOwn(item, key)) continue
    if (key !== shape.keys[i] || isPlainObject(item[key]) !== shape.shared[i]) return false
    i++
  }
  return i === shape.keys.length
}

/** Shapes tried in turn before the signature table is consulted (lists rarely have more). */
const SCANNED_SHAPES = 8

function writeRows(rows: Rows): unknown[] {
  const shapeList: unknown[][] = []
  const shapes: Shape[] = []
  /** Shapes by signature, once there are more than `SCANNED_SHAPES`. */
  let bySignature: Map<string, Shape> | undefined
  const shared: unknown[] = []
  const sharedIndex = new Map<unknown, number>()
  const items = rows.items
  const out: unknown[] = [shapeList, shared, items.length]
  let shape: Shape | undefined
  for (const item of items) {
    if (shape === undefined || !fits(item, shape)) {
      shape = undefined
      for (let s = 0; s < shapes.length && s < SCANNED_SHAPES; s++) {
        if (fits(item, shapes[s]!)) {
          shape = shapes[s]
          break
        }
      }
      if (shape === undefined) {
        if (shapes.length >= SCANNED_SHAPES) bySignature ??= new Map()
        shape = newShape(item, shapes, shapeList, bySignature)
      }
    }
    out.push(shape.index)
    const keys = shape.keys
    for (let k = 0; k < keys.length; k++) {
      const value = item[keys[k]!]
      if (!shape.shared[k]) {
        out.push(value)
        continue
      }
      let index = sharedIndex.get(value)
      if (index === undefined) {
        index = shared.length
        shared.push(value)
        sharedIndex.set(value, index)
      }
      out.push(index)
    }
  }
  return out
}

/** The shape of `item`: a new one, unless (past the scanned ones) the signature table knows it. */
function newShape(
  item: Record<string, unknown>,
  shapes: Shape[],
  shapeList: unknown[][],
  bySignature: Map<string, Shape> | undefined,
): Shape {
  const keys: string[] = []
  const isShared: boolean[] = []
  const spelled: unknown[] = []
  for (const key in item) {
    if (!Object.hasOwn(item, key)) continue
    const s = isPlainObject(item[key])
    keys.push(key)
    isShared.push(s)
    spelled.push(key, s ? 1 : 0)
  }
  const signature = bySignature === undefined ? '' : spelled.join('\u0000')
  const known = bySignature?.get(signature)
  if (known !== undefined) return known
  const shape: Shape = { index: shapeList.length, keys, shared: isShared }
  shapes.push(shape)
  shapeList.push(spelled)
  bySignature?.set(signature, shape)
  return shape
}

function malformed(what: string): TypeError {
  return new TypeError(`malformed rows extension: ${what}`)
}

function readRows(payload: unknown): Record<string, unknown>[] {
  if (!Array.isArray(payload) || payload.length < 3)
    throw malformed('not [shapes, shared, count, …]')
  const [shapeList, shared, count] = payload as [unknown, unknown, unknown]
  if (!Array.isArray(shapeList) || !Array.isArray(shared)) throw malformed('shapes or shared')
  if (!Number.isInteger(count) || (count as number) < 0 || (count as number) > payload.length)
    throw malformed('count')
  const shapes: Shape[] = shapeList.map((spelled: unknown, index) => {
    if (!Array.isArray(spelled) || spelled.length % 2 !== 0) throw malformed('shape')
    const keys: string[] = []
    const isShared: boolean[] = []
    for (let i = 0; i < spelled.length; i += 2) {
      const key: unknown = spelled[i]
      const flag: unknown = spelled[i + 1]
      if (typeof key !== 'string' || key === '__proto__' || (flag !== 0 && flag !== 1))
        throw malformed('shape key')
      keys.push(key)
      isShared.push(flag === 1)
    }
    return { index, keys, shared: isShared }
  })
  const items = new Array<Record<string, unknown>>(count as number)
  let j = 3
  for (let i = 0; i < (count as number); i++) {
    const index: unknown = payload[j++]
    const shape = Number.isInteger(index) ? shapes[index as number] : undefined
    if (shape === undefined) throw malformed('shape index')
    const keys = shape.keys
    if (j + keys.length > payload.length) throw malformed('row past the end')
    const item: Record<string, unknown> = {}
    for (let k = 0; k < keys.length; k++) {
      const value: unknown = payload[j++]
      if (!shape.shared[k]) item[keys[k]!] = value
      else {
        const object: unknown = Number.isInteger(value) ? shared[value as number] : undefined
        if (object === undefined) throw malformed('shared index')
        item[keys[k]!] = object
      }
    }
    items[i] = item
  }
  if (j !== payload.length) throw malformed('values after the last row')
  return items
}

addExtension({
  Class: Rows,
  type: ROWS_EXTENSION_TYPE,
  write: writeRows,
  read: readRows,
})
