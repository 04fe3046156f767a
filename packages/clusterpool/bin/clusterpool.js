#!/usr/bin/env node
// The `clusterpool` command. A committed file, so npm links it at install time, before the
// build: it only loads the built CLI, and says what to do when there is none yet.
import { existsSync } from 'node:fs'

const main = new URL('../dist/cli/main.js', import.meta.url)
if (!existsSync(main)) {
  console.error('clusterpool: the package is not built yet; run `npm run build` first.')
  process.exit(1)
}
await import(main.href)
