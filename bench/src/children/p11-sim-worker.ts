// P11: one simulated worker. A real WebSocket to the coordinator speaking the worker protocol
// (`hello`, `heartbeat` every `heartbeatIntervalMs` of the welcome, `results` for each `assign`,
// `stealReply`, `data` with everything missing); it runs nothing: a task "runs" for `durationMs`
// on one of `procs` slots, and its result is the task's first argument plus one (the bench's
// `inc`), so the client can check what comes back.
//
// Heartbeat latency: right behind each heartbeat frame the worker sends a WebSocket ping on the
// same socket. The coordinator reads frames in order and handles the heartbeat synchronously
// as it reads it; its ws library answers the ping with a pong as soon as it parses it, so the
// pong leaves only after the heartbeat was handled. Heartbeat → pong is the time until the
// coordinator has handled the heartbeat, plus one loopback round trip.
import {
  Direction,
  PROTOCOL_VERSION,
  createDecoder,
  createEncoder,
  decodeFrame,
  encodeFrame,
  type AssignTask,
  type CoordinatorToWorker,
  type WorkerHello,
  type WorkerResultItem,
  type WorkerToCoordinator,
} from '@clusterpool/protocol'
import WebSocket from 'ws'

export interface SimWorkerOptions {
  readonly url: string
  readonly token: string | undefined
  readonly name: string
  /** Task slots. */
  readonly procs: number
  /** How long each task "runs"; 0 answers at once. Milliseconds. */
  readonly durationMs: number
  /** Called with each heartbeat → pong time and when the heartbeat left (`performance.now()`). Milliseconds. */
  readonly onHeartbeatRtt: (ms: number, sentAt: number) => void
}

export class SimWorker {
  readonly #o: SimWorkerOptions
  readonly #encoder = createEncoder()
  readonly #decoder = createDecoder()
  readonly #valueDecoder = createDecoder()
  #ws: WebSocket | undefined
  /** Tasks assigned and not started, in order. */
  readonly #waiting: AssignTask[] = []
  /** Keys of the tasks running now. */
  readonly #running = new Set<string>()
  /** When each heartbeat in flight was sent (`performance.now()`), oldest first. */
  readonly #pings: number[] = []
  #heartbeat: NodeJS.Timeout | undefined
  #pendingResults: WorkerResultItem[] = []
  #flushScheduled = false
  /** Tasks answered. */
  done = 0
  closed = false

  constructor(options: SimWorkerOptions) {
    this.#o = options
  }

  /** Connects and greets; resolves once welcomed. */
  connect(): Promise<void> {
    const o = this.#o
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(o.url, {
        headers: o.token === undefined ? {} : { authorization: `Bearer ${o.token}` },
        perMessageDeflate: false,
        maxPayload: 256 * 2 ** 20,
      })
      this.#ws = ws
      ws.binaryType = 'nodebuffer'
      let welcomed = false
      ws.on('open', () => this.#send([this.#hello()]))
      ws.on('message', (data: Buffer) => {
        const decoded = decodeFrame(this.#decoder, data, Direction.COORDINATOR_TO_WORKER)
        if (!decoded.ok) {
          ws.terminate()
          reject(decoded.error)
          return
        }
        for (const m of decoded.messages) {
          if (!welcomed && m.kind === 'welcome') {
            welcomed = true
            this.#startHeartbeats(m.heartbeatIntervalMs)
            resolve()
          } else if (!welcomed && m.kind === 'refuse') {
            reject(new Error(`refused: ${m.message}`))
          } else this.#handle(m)
        }
      })
      ws.on('pong', () => {
        const sent = this.#pings.shift()
        if (sent !== undefined) o.onHeartbeatRtt(performance.now() - sent, sent)
      })
      ws.on('error', (error) => {
        if (!welcomed) reject(error)
      })
      ws.on('close', () => {
        this.closed = true
        clearInterval(this.#heartbeat)
        if (!welcomed) reject(new Error(`${o.name}: closed before the welcome`))
      })
    })
  }

  close(): void {
    clearInterval(this.#heartbeat)
    this.#ws?.terminate()
  }

  #hello(): WorkerHello {
    return {
      kind: 'hello',
      version: PROTOCOL_VERSION,
      role: 'worker',
      name: this.#o.name,
      host: 'p11-fleet',
      pid: process.pid,
      procs: this.#o.procs,
      resources: {},
      memoryBytes: 2 ** 30,
      versions: { node: process.versions.node, clusterpool: 'p11-sim' },
    }
  }

  #startHeartbeats(intervalMs: number): void {
    // Spread over the interval, as independent hosts would be.
    const beat = (): void => {
      const ws = this.#ws
      if (ws === undefined || ws.readyState !== ws.OPEN) return
      this.#send([
        {
          kind: 'heartbeat',
          running: this.#running.size,
          queued: this.#waiting.length,
          cpu: 0,
          memoryRss: 0,
          heldBytes: 0,
        },
      ])
      this.#pings.push(performance.now())
      ws.ping()
    }
    const first = setTimeout(() => {
      beat()
      this.#heartbeat = setInterval(beat, intervalMs)
    }, Math.random() * intervalMs)
    this.#heartbeat = first
  }

  #handle(m: CoordinatorToWorker): void {
    switch (m.kind) {
      case 'assign':
        this.#waiting.push(...m.tasks)
        this.#startWaiting()
        break
      case 'cancel': {
        const drop = new Set(m.keys)
        this.#removeWaiting((t) => drop.has(t.key))
        for (const k of m.keys) this.#running.delete(k)
        break
      }
      case 'steal': {
        const asked = new Set(m.keys)
        const given = this.#removeWaiting((t) => asked.has(t.key)).map((t) => t.key)
        const gave = new Set(given)
        this.#send([{ kind: 'stealReply', given, kept: m.keys.filter((k) => !gave.has(k)) }])
        break
      }
      case 'fetch':
        this.#send([{ kind: 'data', items: [], missing: m.keys }])
        break
      case 'shutdown':
        this.close()
        break
      case 'welcome':
      case 'refuse':
      case 'store':
      case 'release':
      case 'nested':
        break
    }
  }

  /** Removes and returns the waiting tasks `drop` selects. */
  #removeWaiting(drop: (t: AssignTask) => boolean): AssignTask[] {
    const removed: AssignTask[] = []
    let j = 0
    for (const t of this.#waiting) {
      if (drop(t)) removed.push(t)
      else this.#waiting[j++] = t
    }
    this.#waiting.length = j
    return removed
  }

  #startWaiting(): void {
    while (this.#running.size < this.#o.procs && this.#waiting.length > 0) {
      const t = this.#waiting.shift()!
      this.#running.add(t.key)
      const startedAt = performance.now()
      setTimeout(() => this.#finish(t, performance.now() - startedAt), this.#o.durationMs)
    }
  }

  /** The task "ran" `durationMs`: reported as its run time, as a worker would. */
  #finish(t: AssignTask, durationMs: number): void {
    // Cancelled meanwhile: nothing is reported for it.
    if (!this.#running.delete(t.key)) return
    const value = this.#encoder.encode(this.#result(t))
    this.#pendingResults.push({ key: t.key, value, size: value.byteLength, durationMs })
    this.done++
    if (!this.#flushScheduled) {
      this.#flushScheduled = true
      setImmediate(() => {
        this.#flushScheduled = false
        const items = this.#pendingResults
        this.#pendingResults = []
        this.#send([{ kind: 'results', items }])
      })
    }
    this.#startWaiting()
  }

  /** The bench's `inc`: the first argument plus one, or null for arguments of another shape. */
  #result(t: AssignTask): number | null {
    try {
      const args = this.#valueDecoder.decode(t.args)
      const x = Array.isArray(args) ? (args[0] as unknown) : undefined
      return typeof x === 'number' ? x + 1 : null
    } catch {
      return null
    }
  }

  #send(messages: WorkerToCoordinator[]): void {
    const ws = this.#ws
    if (ws === undefined || ws.readyState !== ws.OPEN) return
    ws.send(encodeFrame(this.#encoder, messages), { binary: true })
  }
}
