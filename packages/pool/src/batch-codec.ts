import { Packr, Unpackr } from 'msgpackr'

import type { ToChild, ToParent } from './messages.js'
import { parseToChild, parseToParent } from './messages.js'

/**
 * Encodes and decodes batches of pool messages with msgpack.
 *
 * Task arguments and results are already msgpack bytes; here they ride along as `bin` values.
 * No records, no structured clone, no typed-array extensions (a `Uint8Array` stays `bin`).
 * The parent copies the `bin` values it decodes, so a small result kept for long does not pin
 * the whole chunk it arrived in; the child reads its arguments as views, decoded at once.
 */

const PACKR_OPTIONS = { useRecords: false, structuredClone: false, moreTypes: false } as const

export interface BatchEncoder {
  encode(messages: readonly (ToChild | ToParent)[]): Uint8Array
}

export function createBatchEncoder(): BatchEncoder {
  const packr = new Packr(PACKR_OPTIONS)
  return { encode: (messages) => packr.pack(messages) }
}

/** Decodes batches from a child; throws on malformed input. */
export function createParentBatchDecoder(): { decode(bytes: Uint8Array): ToParent[] } {
  const unpackr = new Unpackr({ ...PACKR_OPTIONS, mapsAsObjects: true, copyBuffers: true })
  return { decode: (bytes) => parseToParent(unpackr.unpack(bytes)) }
}

/** Decodes batches from the parent; throws on malformed input. */
export function createChildBatchDecoder(): { decode(bytes: Uint8Array): ToChild[] } {
  const unpackr = new Unpackr({ ...PACKR_OPTIONS, mapsAsObjects: true })
  return { decode: (bytes) => parseToChild(unpackr.unpack(bytes)) }
}
