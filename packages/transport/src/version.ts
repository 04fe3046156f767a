import { createRequire } from 'node:module'

/** This package's version, as its package.json says (the same from src/ under tsx and from dist/). */
export const CLUSTERPOOL_VERSION: string = (
  createRequire(import.meta.url)('../package.json') as { version: string }
).version
