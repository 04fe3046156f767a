/**
 * How deep a value nests, checked without recursing past the limit. A peer's frame may decode
 * into values nested thousands deep (msgpackr recurses as far as the stack goes), which then
 * overflow the stack of whatever walks them next: re-encoding them for another peer, or
 * rebuilding an error. Free-form parts of messages (a serialized error's `props`) are held to a
 * small depth instead.
 */

/** Whether `value` nests at most `maxDepth` levels of arrays, plain objects, Maps and Sets. */
export function nestsWithin(value: unknown, maxDepth: number): boolean {
  if (typeof value !== 'object' || value === null) return true
  if (maxDepth <= 0) return false
  if (Array.isArray(value)) {
    for (const v of value) if (!nestsWithin(v, maxDepth - 1)) return false
    return true
  }
  if (value instanceof Map) {
    for (const [k, v] of value) {
      if (!nestsWithin(k, maxDepth - 1) || !nestsWithin(v, maxDepth - 1)) return false
    }
    return true
  }
  if (value instanceof Set) {
    for (const v of value) if (!nestsWithin(v, maxDepth - 1)) return false
    return true
  }
  if (ArrayBuffer.isView(value)) return true
  for (const key of Object.keys(value)) {
    if (!nestsWithin((value as Record<string, unknown>)[key], maxDepth - 1)) return false
  }
  return true
}
