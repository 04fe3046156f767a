// Runs the Python anchor scripts (bench/python/*.py) and turns their JSON lines into results.
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

import { runJsonLines } from '../harness/children.js'
import type { Ctx } from '../harness/measure.js'
import { median } from '../harness/stats.js'
import { log, type ScenarioId } from '../harness/result.js'
import { PYTHON } from './python-env.js'

const PY_DIR = fileURLToPath(new URL('../../python/', import.meta.url))

/**
 * Runs `script` with `config` as its JSON argument; records measurements, skips and errors. The
 * JSON goes in a file the argument names (`@path`): P4's scenarios list every task, past the
 * 128 KiB a single argument may have (`spawn E2BIG`).
 */
export async function runPythonScript(
  ctx: Ctx,
  scenario: ScenarioId,
  script: string,
  config: Record<string, unknown>,
  timeoutMs: number,
  onOther?: (record: Record<string, unknown>) => void,
): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'clusterpool-bench-'))
  try {
    const file = join(dir, 'config.json')
    await writeFile(file, JSON.stringify(config))
    await runScript(ctx, scenario, script, `@${file}`, timeoutMs, onOther)
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

async function runScript(
  ctx: Ctx,
  scenario: ScenarioId,
  script: string,
  configArg: string,
  timeoutMs: number,
  onOther?: (record: Record<string, unknown>) => void,
): Promise<void> {
  const { results } = ctx
  const run = await runJsonLines(
    PYTHON,
    [`${PY_DIR}${script}`, configArg],
    timeoutMs,
    (r) => {
      switch (r.type) {
        case 'measurement': {
          const runs = (r.runs as number[]) ?? []
          results.add({
            scenario: r.scenario as ScenarioId,
            system: String(r.system),
            family: 'anchor',
            method: String(r.method),
            metric: String(r.metric),
            ...(typeof r.n === 'number' ? { n: r.n } : {}),
            unit: String(r.unit),
            better: r.better === 'lower' ? 'lower' : 'higher',
            median: median(runs),
            runs,
            ...(typeof r.p99 === 'number' ? { p99: r.p99 } : {}),
            ...(typeof r.note === 'string' ? { note: r.note } : {}),
          })
          break
        }
        case 'skip':
          results.skip({
            scenario: r.scenario as ScenarioId,
            system: String(r.system),
            method: String(r.method),
            ...(typeof r.n === 'number' ? { n: r.n } : {}),
            reason: String(r.reason),
          })
          break
        case 'error':
          results.fail({
            scenario: r.scenario as ScenarioId,
            system: String(r.system),
            error: String(r.error),
          })
          break
        case 'info':
          log(`${script}: ${JSON.stringify(r)}`)
          onOther?.(r)
          break
        default:
          onOther?.(r)
      }
    },
    { cwd: PY_DIR, env: { ...process.env, PYTHONUNBUFFERED: '1', PYTHONDONTWRITEBYTECODE: '1' } },
  )
  if (run.timedOut) {
    results.fail({
      scenario,
      system: script,
      error: `timed out after ${Math.round(timeoutMs / 1000)} s (figures printed before are kept)`,
    })
  } else if (run.code !== 0) {
    results.fail({
      scenario,
      system: script,
      error: `exit ${run.code ?? run.signal}: ${run.stderrTail}`,
    })
  }
}
