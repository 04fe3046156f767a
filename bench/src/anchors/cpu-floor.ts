// Anchor for P3: the machine's own ceiling. The same cpu_heavy source runs in plain Node child
// processes, told over stdin how much to run, with no pool and no messages per task: one process
// runs every task, or two run half each. Measured like the clusterpool systems (same pairs,
// same background check), it shows how much of a pool's shortfall is the machine's.
import type { ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { createInterface, type Interface } from 'node:readline'

import { killChild, startChild } from '../harness/children.js'
import type { Ctx } from '../harness/measure.js'
import { withTimeout } from '../harness/timeout.js'
import { cpuHeavy, cpuWorkload, measureScaling, type ScalingRunner } from '../scenarios/p3-cpu.js'

export const CPU_FLOOR = 'plain Node processes (no pool)'

/** Reads `<iterations> <count>` lines; runs cpuHeavy(iterations) count times; writes each sum. */
const CHILD_SOURCE = `const cpuHeavy = ${cpuHeavy.toString()}
require('node:readline').createInterface({ input: process.stdin }).on('line', (line) => {
  const [n, k] = line.split(' ').map(Number)
  let sum = 0
  for (let i = 0; i < k; i++) sum = cpuHeavy(n)
  process.stdout.write(sum + '\\n')
})`

interface LoopChild {
  readonly child: ChildProcess
  readonly lines: Interface
}

function startLoop(): LoopChild {
  const child = startChild(process.execPath, ['-e', CHILD_SOURCE], {
    stdio: ['pipe', 'pipe', 'inherit'],
  })
  return { child, lines: createInterface({ input: child.stdout! }) }
}

/** Runs `count` tasks in `loop`; resolves with the last sum. */
async function runIn(loop: LoopChild, iterations: number, count: number): Promise<number> {
  const reply = once(loop.lines, 'line') as Promise<[string]>
  loop.child.stdin!.write(`${iterations} ${count}\n`)
  const [line] = await withTimeout(reply, 600_000, 'a plain Node process')
  return Number(line)
}

export async function cpuFloorAnchor(ctx: Ctx): Promise<void> {
  const { iterations, expected } = cpuWorkload(ctx.config.cpuTaskMs)
  const tasks = ctx.config.cpuTasks
  await measureScaling(ctx, CPU_FLOOR, 'anchor', async (): Promise<ScalingRunner> => {
    const one = [startLoop()]
    const two = [startLoop(), startLoop()]
    return {
      async run(procs) {
        const loops = procs === 1 ? one : two
        // As even a split as the task count allows: the best any scheduler could do.
        const counts = loops.map((_, i) => Math.floor(tasks / procs) + (i < tasks % procs ? 1 : 0))
        const sums = await Promise.all(loops.map((loop, i) => runIn(loop, iterations, counts[i]!)))
        if (sums.some((s, i) => counts[i]! > 0 && s !== expected)) throw new Error('wrong result')
      },
      async close() {
        await Promise.all([...one, ...two].map((l) => killChild(l.child, 1000)))
      },
    }
  })
}
