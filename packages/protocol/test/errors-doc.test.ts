import { readFileSync } from 'node:fs'

import test from 'ava'

import { ErrorCode } from '../src/errors/codes.js'
import * as errors from '../src/errors/errors.js'
import { ClusterpoolError } from '../src/errors/errors.js'

const doc = readFileSync(new URL('../../../docs/errors.md', import.meta.url), 'utf8')

/** `| `CP_ERR_X` | `Class` | meaning |` rows of the codes table (however prettier pads them). */
const rows = new Map<string, { className: string; meaning: string }>()
for (const match of doc.matchAll(
  /^\|\s*`(CP_ERR_[A-Z_]+)`\s*\|\s*`(\w+)`\s*\|\s*(.+?)\s*\|\s*$/gm,
)) {
  const [, code, className, meaning] = match
  if (rows.has(code!)) throw new Error(`docs/errors.md lists ${code} twice`)
  rows.set(code!, { className: className!, meaning: meaning!.trim() })
}

/** Each error class's code, found by making one (most take a message; a few need more). */
function codeOf(cls: new (...args: never[]) => ClusterpoolError): string {
  const attempts: unknown[][] = [['message'], ['message', []]]
  for (const args of attempts) {
    try {
      return Reflect.construct(cls, args).code
    } catch {
      // try the next arguments
    }
  }
  throw new Error(`cannot construct ${cls.name}: add its arguments to errors-doc.test.ts`)
}

const classes = (Object.values(errors) as unknown[]).filter(
  (v): v is new (...args: never[]) => ClusterpoolError =>
    typeof v === 'function' && v.prototype instanceof ClusterpoolError,
)

test('docs/errors.md lists every ErrorCode', (t) => {
  const missing = Object.values(ErrorCode).filter((code) => !rows.has(code))
  t.deepEqual(missing, [], `add these to docs/errors.md: ${missing.join(', ')}`)
})

test('docs/errors.md lists only codes that exist', (t) => {
  const known = new Set<string>(Object.values(ErrorCode))
  t.deepEqual(
    [...rows.keys()].filter((code) => !known.has(code)),
    [],
  )
})

test('each documented code names the class that has it, and says what it means', (t) => {
  const classesByCode = new Map<string, string[]>()
  for (const cls of classes) {
    const code = codeOf(cls)
    classesByCode.set(code, [...(classesByCode.get(code) ?? []), cls.name])
  }
  for (const [code, { className, meaning }] of rows) {
    t.true(classesByCode.get(code)?.includes(className), `${code}: ${className} does not have it`)
    t.true(meaning.length > 10, `${code} needs a meaning`)
  }
})

test('every error class has a documented code', (t) => {
  for (const cls of classes) t.true(rows.has(codeOf(cls)), cls.name)
})

test('codes are unique and spelled CP_ERR_...', (t) => {
  const codes = Object.values(ErrorCode)
  t.is(new Set(codes).size, codes.length)
  for (const [key, code] of Object.entries(ErrorCode)) t.is<string, string>(code, `CP_ERR_${key}`)
})
