// What the container tests share: whether a Docker engine answers, and the test to register
// with (skipped without one, except in CI, where a missing engine fails instead).
import { execFileSync } from 'node:child_process'

import test from 'ava'

function dockerAvailable(): boolean {
  try {
    execFileSync('docker', ['info'], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}

/** `hasDocker`, and `maybe`: `test.serial` with an engine, `test.skip` without. */
export function dockerTests(what: string): {
  hasDocker: boolean
  maybe: typeof test.serial | typeof test.skip
} {
  const hasDocker = dockerAvailable()
  if (!hasDocker && process.env.CI) {
    test(`${what} needs a Docker engine`, (t) => {
      t.fail(
        'no Docker engine answers `docker info`; .ci/run must install docker.io and start dockerd',
      )
    })
  }
  if (!hasDocker) console.warn(`${what}: no Docker engine here, skipping (CI fails instead)`)
  return { hasDocker, maybe: hasDocker ? test.serial : test.skip }
}

const OWNER_LABEL = 'clusterpool.test'

/**
 * The label a test file puts on every container it starts, so that it can remove the ones an
 * aborted earlier run of the same file left behind, and only those. (An `ancestor=` filter
 * would not do: the test files build the same image under different tags, one image ID, so it
 * matches the containers of a test file running alongside.)
 */
export function ownerLabel(file: string): Record<string, string> {
  return { [OWNER_LABEL]: file }
}

/** Removes the containers an earlier run of `file` left behind (see `ownerLabel`). */
export function removeStaleContainers(file: string): void {
  const stale = execFileSync('docker', ['ps', '-aq', '--filter', `label=${OWNER_LABEL}=${file}`])
    .toString()
    .split('\n')
    .filter(Boolean)
  if (stale.length > 0) execFileSync('docker', ['rm', '-f', ...stale], { stdio: 'ignore' })
}
