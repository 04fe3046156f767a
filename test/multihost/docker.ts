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
