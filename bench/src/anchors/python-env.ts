// The Python anchors run on Debian's /usr/bin/python3 with python3-distributed (Dask 2022.12).
// When `import distributed` fails, the bench installs it with apt-get (as root), or says why not.
import { existsSync } from 'node:fs'

import { runCommand } from '../harness/children.js'
import { log } from '../harness/result.js'

export const PYTHON = '/usr/bin/python3'

export interface PythonEnv {
  /** /usr/bin/python3 runs: the concurrent.futures anchor is available. */
  readonly python: boolean
  /** `import distributed` works: the Dask anchor is available. */
  readonly dask: boolean
  readonly daskVersion?: string
  /** Why an anchor is missing. */
  readonly problems: readonly string[]
}

async function probe(module: string): Promise<string | undefined> {
  try {
    const r = await runCommand(
      PYTHON,
      ['-c', `import ${module}; print(${module}.__version__)`],
      60_000,
    )
    return r.code === 0 ? r.stdout.trim() : undefined
  } catch {
    return undefined
  }
}

export async function ensurePythonEnv(install: boolean): Promise<PythonEnv> {
  if (!existsSync(PYTHON)) {
    return {
      python: false,
      dask: false,
      problems: [`${PYTHON} not found: the Python anchors are skipped`],
    }
  }
  let version = await probe('distributed')
  const problems: string[] = []
  if (version === undefined && install) {
    const isRoot = process.getuid?.() === 0
    if (!isRoot) {
      problems.push(
        'python3-distributed is missing and the bench is not root: run `apt-get install -y python3-distributed`',
      )
    } else {
      log(
        'python3-distributed missing: apt-get update && apt-get install -y python3-distributed (a few minutes)',
      )
      process.env.DEBIAN_FRONTEND = 'noninteractive' // inherited by apt-get: no prompts
      try {
        const update = await runCommand('apt-get', ['update'], 300_000)
        if (update.code !== 0) problems.push(`apt-get update failed: ${lastLine(update.stderr)}`)
        const r = await runCommand(
          'apt-get',
          ['install', '-y', '--no-install-recommends', 'python3-distributed'],
          900_000,
        )
        if (r.code !== 0)
          problems.push(`apt-get install python3-distributed failed: ${lastLine(r.stderr)}`)
      } catch (error) {
        problems.push(`apt-get failed: ${(error as Error).message}`)
      }
      version = await probe('distributed')
    }
  } else if (version === undefined) {
    problems.push('python3-distributed is missing and --no-install was given')
  }
  if (version === undefined) problems.push('the Dask anchor is skipped')
  return {
    python: true,
    dask: version !== undefined,
    ...(version === undefined ? {} : { daskVersion: version }),
    problems,
  }
}

function lastLine(text: string): string {
  return text.trim().split('\n').slice(-2).join(' / ')
}
