// The machine a run happened on, for the report header.
import os from 'node:os'

import { runCommand } from './children.js'

export interface MachineInfo {
  readonly cores: number
  readonly cpuModel: string
  readonly memoryGiB: number
  readonly os: string
  readonly node: string
  readonly python: string
  readonly date: string
  readonly loadAverage: readonly number[]
}

export async function machineInfo(python: string): Promise<MachineInfo> {
  let pythonVersion = 'not found'
  try {
    const r = await runCommand(python, ['--version'], 10_000)
    pythonVersion = (r.stdout + r.stderr).trim() || pythonVersion
  } catch {
    // Reported as not found.
  }
  return {
    cores: os.availableParallelism(),
    cpuModel: os.cpus()[0]?.model.trim() ?? 'unknown',
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    python: `${pythonVersion} (${python})`,
    date: new Date().toISOString(),
    loadAverage: os.loadavg().map((x) => Math.round(x * 100) / 100),
  }
}
