import { Packr, Unpackr, addExtension } from 'msgpackr'

import { MAX_BIGINT_BYTES, holdsMap } from './sendable.js'

/**
 * The value codec: msgpack through msgpackr, set up for untrusted input.
 *
 * - No records and no structured clone: nothing one message says changes how a later one decodes.
 * - One `Unpackr` per connection (`createDecoder()`), never shared across peers.
 * - Maps travel as an extension (msgpackr would otherwise turn them into plain objects).
 * - Nothing a peer sends costs more than linear time to decode: a BigInt extension over
 *   `MAX_BIGINT_BYTES` is refused before it is built (building one and printing one are
 *   superlinear), msgpackr's string bundles are refused, and trailing bytes are refused without
 *   msgpackr's JSON preview of the value read (which prints every BigInt in it).
 *
 * msgpackr keeps one extension table per process, so the readers registered here apply to every
 * `Unpackr` in it, the pool's batch codec included.
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
    // Checked here: \`new Map\` would quote a bad entry whole in its message.
    for (const entry of entries) {
      if (!Array.isArray(entry))
        throw new TypeError('malformed Map extension: an entry is not a pair')
    }
    return new Map(entries as [unknown, unknown][])
  },
})

/** msgpackr's BigInt extension: big-endian two's complement. */
const BIGINT_EXTENSION_TYPE = 0x42
/** msgpackr's bundled-strings extension (`bundleStrings`), which no clusterpool encoder writes. */
const STRING_BUNDLE_EXTENSION_TYPE = 0x62

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'))

/** Reads a BigInt extension, refusing one over `MAX_BIGINT_BYTES` before building anything. */
function readBigInt(data: Uint8Array): bigint {
  const length = data.length
  if (length === 0) throw new TypeError('malformed BigInt extension: no bytes')
  if (length > MAX_BIGINT_BYTES) {
    throw new RangeError(
      `a BigInt extension of ${length} bytes is over the limit of ${MAX_BIGINT_BYTES} bytes`,
    )
  }
  let hex = '0x'
  for (let i = 0; i < length; i++) hex += HEX[data[i]!]!
  const unsigned = BigInt(hex)
  return data[0]! & 0x80 ? unsigned - (1n << BigInt(length * 8)) : unsigned
}

addExtension({ type: BIGINT_EXTENSION_TYPE, unpack: readBigInt })
addExtension({
  type: STRING_BUNDLE_EXTENSION_TYPE,
  unpack: () => {
    throw new TypeError('msgpack string bundles (extension 0x62) are not accepted')
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
  // One callback per decoder, not one per value: it runs for every result a client receives.
  let value: unknown
  let end = -1
  const takeFirst = (first: unknown, _start?: number, stop?: number): boolean => {
    value = first
    end = stop ?? -1
    return false
  }
  return {
    decode: (bytes) => {
      // `unpackMultiple` stopped after the first value, rather than `unpack`: on trailing bytes
      // `unpack` throws with a JSON preview of the whole value it read, BigInts printed.
      value = undefined
      end = -1
      unpackr.unpackMultiple(bytes, takeFirst)
      const decoded = value
      value = undefined // hold nothing between calls
      if (end !== bytes.length) {
        throw new TypeError(
          end < 0 ? 'no value' : `trailing bytes: the value ends at byte ${end} of ${bytes.length}`,
        )
      }
      return decoded
    },
  }
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
