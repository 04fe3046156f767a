// How much CPU everything other than the system under test used during a measurement, read from
// /proc (Linux only). On a shared 2-core machine a scaling figure is only meaningful when this
// is near zero: load from elsewhere that fits on one core leaves a 1-process run untouched and
// slows the 2-process run, so it shows up as lost efficiency.
import { readFileSync, readdirSync } from 'node:fs'

/** Clock ticks per second of /proc's CPU times (`getconf CLK_TCK`; 100 on every Linux build). */
const TICKS_PER_SECOND = 100
const MS_PER_TICK = 1000 / TICKS_PER_SECOND

interface Reading {
  /** CPU time of the whole machine, idle excluded (steal included). Milliseconds. */
  readonly busyMs: number
  /** CPU time of the system under test. Milliseconds. */
  readonly oursMs: number
  readonly at: number
}

/**
 * Tells the CPU of the system under test from everybody else's.
 *
 * "Ours" is every thread of this process tree that did not exist when the meter was opened (the
 * processes and threads the systems under test started), plus this process's main thread, which
 * drives them. Everything else is background: other programs, steal time, this process's GC
 * helper threads, and children left over from earlier scenarios.
 */
export class BackgroundMeter {
  readonly #before: ReadonlySet<string>
  #from: Reading | undefined

  private constructor(before: ReadonlySet<string>) {
    this.#before = before
  }

  /** A meter that ignores the threads alive now, or undefined where /proc is not readable. */
  static open(): BackgroundMeter | undefined {
    try {
      machineBusyMs()
      return new BackgroundMeter(new Set(treeThreads().map((t) => t.key)))
    } catch {
      return undefined
    }
  }

  /** Starts a measurement. */
  start(): void {
    this.#from = this.#read()
  }

  /** Cores used by the background since `start()`, averaged over the wall time. */
  stop(): number {
    const from = this.#from
    if (from === undefined) throw new Error('BackgroundMeter.stop() without start()')
    const to = this.#read()
    this.#from = undefined
    const backgroundMs = to.busyMs - from.busyMs - (to.oursMs - from.oursMs)
    return Math.max(0, backgroundMs) / Math.max(1, to.at - from.at)
  }

  #read(): Reading {
    let oursMs = 0
    for (const t of treeThreads()) {
      if (t.tid === process.pid || !this.#before.has(t.key)) oursMs += t.cpuMs
    }
    return { busyMs: machineBusyMs(), oursMs, at: performance.now() }
  }
}

/** Busy CPU time of the machine, all cores, from the first line of /proc/stat. */
function machineBusyMs(): number {
  const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0] ?? ''
  const fields = line.trim().split(/\s+/).slice(1, 9).map(Number)
  if (fields.length < 8 || fields.some((f) => !Number.isFinite(f)))
    throw new Error(`/proc/stat: unexpected first line "${line}"`)
  // user nice system idle iowait irq softirq steal
  const [user, nice, system, , , irq, softirq, steal] = fields as [number, ...number[]]
  return (user + nice! + system! + irq! + softirq! + steal!) * MS_PER_TICK
}

interface ThreadTime {
  /** `pid/tid`. */
  readonly key: string
  readonly tid: number
  readonly cpuMs: number
}

/** Every thread of this process and its descendants, with its CPU time (user + system). */
function treeThreads(): ThreadTime[] {
  const parents = new Map<number, number>()
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue
    const stat = readStat(`/proc/${name}/stat`)
    if (stat !== undefined) parents.set(Number(name), stat.ppid)
  }
  const tree = new Set<number>([process.pid])
  // Parents before children is not guaranteed: repeat until nothing is added.
  for (let grew = true; grew;) {
    grew = false
    for (const [pid, ppid] of parents) {
      if (!tree.has(pid) && tree.has(ppid)) {
        tree.add(pid)
        grew = true
      }
    }
  }
  const threads: ThreadTime[] = []
  for (const pid of tree) {
    let tids: string[]
    try {
      tids = readdirSync(`/proc/${pid}/task`)
    } catch {
      continue // exited meanwhile
    }
    for (const tid of tids) {
      const stat = readStat(`/proc/${pid}/task/${tid}/stat`)
      if (stat !== undefined)
        threads.push({ key: `${pid}/${tid}`, tid: Number(tid), cpuMs: stat.cpuMs })
    }
  }
  return threads
}

/** Parent pid and CPU time from a `stat` file; undefined if it vanished. */
function readStat(path: string): { ppid: number; cpuMs: number } | undefined {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch {
    return undefined
  }
  // The command name may hold spaces and parentheses: fields start after the last ')'.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ')
  const ppid = Number(fields[1])
  const cpuMs = (Number(fields[11]) + Number(fields[12])) * MS_PER_TICK
  return Number.isFinite(ppid) && Number.isFinite(cpuMs) ? { ppid, cpuMs } : undefined
}
