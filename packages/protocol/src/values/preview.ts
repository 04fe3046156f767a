/**
 * Values shown in error messages and logs. What a peer sent may be a megabyte string or a BigInt
 * whose decimal form takes seconds to print, so nothing here prints a value whole: a message
 * says what the value is in at most a few dozen characters, in time that does not grow with it.
 */

/** The most characters of a string, or of a key, that a message quotes. */
export const SHOWN_CHARS = 40

/** BigInts inside this range are printed; others are described. */
const SHOWN_BIGINT = 1n << 64n

/** A value for a message: `"abc"`, `5`, `12n`, `an array of 3`, `an object`… */
export function preview(v: unknown): string {
  switch (typeof v) {
    case 'string':
      return v.length > SHOWN_CHARS
        ? `${JSON.stringify(v.slice(0, SHOWN_CHARS))}… (${v.length} characters)`
        : JSON.stringify(v)
    case 'bigint':
      return v < SHOWN_BIGINT && v > -SHOWN_BIGINT ? `${v}n` : 'a BigInt beyond 64 bits'
    case 'number':
    case 'boolean':
    case 'undefined':
      return String(v)
    case 'symbol':
      return 'a symbol'
    case 'function':
      return 'a function'
    case 'object':
      if (v === null) return 'null'
      if (Array.isArray(v)) return `an array of ${v.length}`
      return 'an object'
  }
}

/** An object key inside a path: `GPU` as it is, anything longer or stranger quoted and cut. */
export function previewKey(key: string): string {
  if (key.length <= SHOWN_CHARS && /^[\w$-]+$/.test(key)) return key
  return key.length > SHOWN_CHARS
    ? `${JSON.stringify(key.slice(0, SHOWN_CHARS))}…`
    : JSON.stringify(key)
}

/** A BigInt for a message, printed only when it is within 64 bits. */
export function previewBigInt(v: bigint): string {
  return v < SHOWN_BIGINT && v > -SHOWN_BIGINT ? String(v) : 'beyond 64 bits'
}

/** Cuts a message made elsewhere (a caught error's, which may quote a value whole). */
export function clip(text: string, max = 200): string {
  return text.length > max ? `${text.slice(0, max)}… (${text.length} characters)` : text
}
