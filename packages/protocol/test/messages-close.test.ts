import test from 'ava'

import { ErrorCode } from '../src/errors/codes.js'
import {
  AuthError,
  ConnectionLostError,
  InvalidOptionError,
  PayloadTooLargeError,
  ProtocolError,
  TimeoutError,
  VersionMismatchError,
} from '../src/errors/errors.js'
import {
  CloseCode,
  MAX_CLOSE_REASON_BYTES,
  closeError,
  closeReason,
} from '../src/messages/close-codes.js'
import { refusalError } from '../src/messages/common.js'
import { frameTooLarge } from '../src/messages/frame.js'

test('close codes are unique and in the ranges they belong to', (t) => {
  const codes = Object.values(CloseCode)
  t.is(new Set(codes).size, codes.length)
  for (const [name, code] of Object.entries(CloseCode)) {
    t.true((code >= 1000 && code <= 1015) || (code >= 4000 && code <= 4999), name)
  }
  t.like(CloseCode, {
    SHUTDOWN: 4000,
    PROTOCOL: 4400,
    AUTH: 4401,
    VERSION_MISMATCH: 4409,
    PAYLOAD_TOO_LARGE: 4413,
  })
})

const CLOSE_ERRORS: [number, new (...args: never[]) => Error, string][] = [
  [CloseCode.PROTOCOL, ProtocolError, ErrorCode.PROTOCOL],
  [CloseCode.AUTH, AuthError, ErrorCode.AUTH],
  [CloseCode.VERSION_MISMATCH, VersionMismatchError, ErrorCode.VERSION_MISMATCH],
  [CloseCode.PAYLOAD_TOO_LARGE, PayloadTooLargeError, ErrorCode.PAYLOAD_TOO_LARGE],
  [CloseCode.MESSAGE_TOO_BIG, PayloadTooLargeError, ErrorCode.PAYLOAD_TOO_LARGE],
  [CloseCode.SHUTDOWN, ConnectionLostError, ErrorCode.CONNECTION_LOST],
  [CloseCode.NORMAL, ConnectionLostError, ErrorCode.CONNECTION_LOST],
  [1006, ConnectionLostError, ErrorCode.CONNECTION_LOST],
]

for (const [code, cls, errorCode] of CLOSE_ERRORS) {
  test(`close code ${code} becomes ${cls.name}`, (t) => {
    const err = closeError(code, 'why')
    t.true(err instanceof cls)
    t.is<string, string>(err.code, errorCode)
    t.true(err.message.includes(`close code ${code}: why`), err.message)
  })
}

test('closeReason fits 123 UTF-8 bytes without splitting a character', (t) => {
  t.is(closeReason('short'), 'short')
  const exact = 'x'.repeat(MAX_CLOSE_REASON_BYTES)
  t.is(closeReason(exact), exact)
  const long = closeReason('y'.repeat(500))
  t.true(Buffer.byteLength(long) <= MAX_CLOSE_REASON_BYTES)
  t.true(long.endsWith('…'))
  const emoji = closeReason('😀'.repeat(100))
  t.true(Buffer.byteLength(emoji) <= MAX_CLOSE_REASON_BYTES)
  t.false(emoji.includes('\uFFFD'))
  t.regex(emoji, /^(😀)+…$/u)
})

const REFUSALS: [string, new (...args: never[]) => Error][] = [
  [ErrorCode.AUTH, AuthError],
  [ErrorCode.VERSION_MISMATCH, VersionMismatchError],
  [ErrorCode.PAYLOAD_TOO_LARGE, PayloadTooLargeError],
  [ErrorCode.INVALID_OPTION, InvalidOptionError],
  [ErrorCode.PROTOCOL, ProtocolError],
  [ErrorCode.TIMEOUT, TimeoutError],
  ['CP_ERR_FROM_THE_FUTURE', ProtocolError],
]

for (const [code, cls] of REFUSALS) {
  test(`a refuse with ${code} becomes ${cls.name}`, (t) => {
    const err = refusalError({ code, message: 'because' })
    t.true(err instanceof cls)
    t.regex(err.message, /^the coordinator refused the connection: because/)
  })
}

test('frameTooLarge', (t) => {
  t.is(frameTooLarge(100, 100), undefined)
  const err = frameTooLarge(101, 100, 'argument 0')
  t.true(err instanceof PayloadTooLargeError)
  t.is(err?.message, "argument 0 is 101 bytes, over the connection's maxPayload of 100 bytes")
})
