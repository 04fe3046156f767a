// Flag parsers for the CLI: a bad value fails with commander's message naming the flag.
import { readFileSync } from 'node:fs'

import { InvalidArgumentError } from 'commander'

const DECIMAL = /^\s*\d+\s*$/

/** The levels `--log-level` takes (pino's). */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const

/**
 * A boolean flag's environment variable: commander counts any value as on, `false` and `0`
 * too; here 1/true/yes turn it on, 0/false/no or empty leave it off, anything else fails.
 */
export function envFlag(name: string, env: NodeJS.ProcessEnv = process.env): boolean {
  const raw = env[name]
  if (raw === undefined) return false
  const value = raw.trim().toLowerCase()
  if (['1', 'true', 'yes', 'on'].includes(value)) return true
  if (['', '0', 'false', 'no', 'off'].includes(value)) return false
  throw new InvalidArgumentError(`${name} must be 1, true, 0 or false, got "${raw}"`)
}

export function parsePositiveInt(value: string): number {
  const n = DECIMAL.test(value) ? Number(value) : NaN
  if (!Number.isInteger(n) || n < 1)
    throw new InvalidArgumentError(`expected a positive integer, got "${value}"`)
  return n
}

export function parseNonNegative(value: string): number {
  const n = Number(value)
  if (value.trim() === '' || !Number.isFinite(n) || n < 0)
    throw new InvalidArgumentError(`expected a number ≥ 0, got "${value}"`)
  return n
}

export function parsePort(value: string): number {
  // Decimal digits only: Number('') is 0 (any port) and Number('0x4970') is 18800.
  const n = DECIMAL.test(value) ? Number(value) : NaN
  if (!Number.isInteger(n) || n < 0 || n > 65535)
    throw new InvalidArgumentError(`expected a port from 0 to 65535, got "${value}"`)
  return n
}

/**
 * An API error's message in the CLI's words: an option it names (`options.maxPayload`,
 * `memoryTargetFraction`) becomes the flag that sets it (`--max-payload`, `--memory-target`),
 * when `flags` (API name → flag) or the command's own flags know one.
 */
export function inFlagTerms(
  message: string,
  longFlags: readonly string[],
  flags: Readonly<Record<string, string>> = {},
): string {
  return message.replace(/\b(?:options\.)?([a-z][A-Za-z]+)\b/g, (whole, name: string) => {
    const known = flags[name]
    if (known !== undefined) return known
    if (!whole.startsWith('options.')) return whole
    const flag = `--${name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`
    return longFlags.includes(flag) ? flag : whole
  })
}

/** Reads the file a flag names, failing with a message that names the flag. */
export function readFlagFile(flag: string, path: string): Buffer {
  try {
    return readFileSync(path)
  } catch (error) {
    throw new InvalidArgumentError(`${flag}: cannot read ${path}: ${(error as Error).message}`)
  }
}
