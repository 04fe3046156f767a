import { Packr, Unpackr, addExtension } from 'msgpackr'

import { holdsMap } from './sendable.js'

/**
 * The value codec: msgpack through msgpackr, set up for untrusted input.
 *
 * - No records and no structured clone: nothing one message says changes how a later one decodes.
 * - One `Unpackr` per connection (`createDecoder()`), never shared across peers.
 * - Maps travel as an extension (msgpackr would otherwise turn them into plain objects).
 */

/** Marks a Map on its way out; only values that hold Maps are copied into these. */
class EncodedMap {
  constructor(readonly entries: [unknown, unknown][]) {}
}

const MAP_EXTENSION_TYPE = 0x4d

addExtension({
  Class: EncodedMap,
  type: MAP_EXTENSION_TYPE,
  write: (m: EncodedMap) => m.entries,
  read: (entries: unknown) => {
    if (!Array.isArray(entries)) throw new TypeError('malformed Map extension')
    return new Map(entries as [unknown, unknown][])
  },
})

const PACKR_OPTIONS = { useRecords: false, structuredClone: false, moreTypes: true } as const
const UNPACKR_OPTIONS = {
  useRecords: false,
  structuredClone: false,
  moreTypes: true,
  mapsAsObjects: true,
} as const

export interface Encoder {
  /** Encodes any value msgpack carries; does not check it (see `encodeValue`). */
  encode(value: unknown): Uint8Array
}

export interface Decoder {
  /** Decodes one value; throws on malformed input (callers catch). */
  decode(bytes: Uint8Array): unknown
}

export function createEncoder(): Encoder {
  const packr = new Packr(PACKR_OPTIONS)
  return { encode: (value) => packr.pack(value) }
}

export function createDecoder(): Decoder {
  const unpackr = new Unpackr(UNPACKR_OPTIONS)
  return { decode: (bytes) => unpackr.unpack(bytes) as unknown }
}

/**
 * Checks a user value (arguments, a result) and encodes it, throwing `UnsendableValueError`
 * that names the part of `label` that cannot be sent.
 */
export function encodeValue(encoder: Encoder, value: unknown, label: string): Uint8Array {
  return encoder.encode(holdsMap(value, label) ? boxMaps(value) : value)
}

/** Copies the paths that lead to Maps, replacing each Map with an `EncodedMap`. */
function boxMaps(value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return value
  if (value instanceof Map) {
    return new EncodedMap([...value].map(([k, v]) => [boxMaps(k), boxMaps(v)]))
  }
  if (Array.isArray(value)) return value.map(boxMaps)
  if (value instanceof Set) return new Set([...value].map(boxMaps))
  if (Object.getPrototypeOf(value) === Object.prototype || Object.getPrototypeOf(value) === null) {
    const out: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(value)) out[k] = boxMaps(v)
    return out
  }
  return value
}
