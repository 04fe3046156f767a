// Every error class clusterpool raises, and their codes: the packages above re-export this
// module wholesale (`export * from '@clusterpool/protocol/errors'`), so no list is kept by hand.
export { ErrorCode } from './codes.js'
export * from './errors.js'
