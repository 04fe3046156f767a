// Anchor: the wire floor. Raw `ws` + msgpackr echo between this process and a child over
// loopback, with no task logic: what any system of this design pays at least per message.
// Round trip (sequential), messages/s (one item per frame, 1,000 frames in flight) and items/s
// (100 items per frame, 100 frames in flight).
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'

import { Packr, Unpackr } from 'msgpackr'
import WebSocket from 'ws'

import { killChild, startLoopbackServer } from '../harness/children.js'
import { addRoundTrip, guarded, throughputSeries, type Ctx } from '../harness/measure.js'
import { withTimeout } from '../harness/timeout.js'

export const FLOOR_SINGLE = 'wire floor: ws+msgpackr, 1 msg/frame'
export const FLOOR_BATCHED = 'wire floor: ws+msgpackr, 100 items/frame'

interface Item {
  i: number
  x: number
}

/** A client whose replies are delivered to whoever waits for item count to reach a target. */
export class EchoClient {
  readonly #ws: WebSocket
  readonly #packr = new Packr({ useRecords: false })
  readonly #unpackr = new Unpackr({ useRecords: false })
  received = 0
  sum = 0
  #waiter: { target: number; resolve: () => void } | undefined
  #onFrame: (() => void) | undefined

  constructor(ws: WebSocket) {
    this.#ws = ws
    ws.on('message', (data: Buffer) => {
      const m = this.#unpackr.unpack(data) as Item | Item[]
      if (Array.isArray(m)) {
        for (const it of m) this.sum += it.x
        this.received += m.length
      } else {
        this.sum += m.x
        this.received += 1
      }
      this.#onFrame?.()
      if (this.#waiter && this.received >= this.#waiter.target) {
        const w = this.#waiter
        this.#waiter = undefined
        w.resolve()
      }
    })
  }

  send(message: Item | Item[]): void {
    this.#ws.send(this.#packr.pack(message))
  }

  until(target: number): Promise<void> {
    if (this.received >= target) return Promise.resolve()
    return new Promise((resolve) => (this.#waiter = { target, resolve }))
  }

  /** Sends `frames` frames from `make`, keeping at most `window` unanswered. */
  async pipeline(
    frames: number,
    window: number,
    itemsPerFrame: number,
    make: (f: number) => Item | Item[],
  ): Promise<void> {
    const base = this.received
    let sent = 0
    const pump = (): void => {
      const answered = (this.received - base) / itemsPerFrame
      while (sent < frames && sent - answered < window) this.send(make(sent++))
    }
    this.#onFrame = pump
    pump()
    await this.until(base + frames * itemsPerFrame)
    this.#onFrame = undefined
  }

  close(): void {
    this.#ws.close()
  }
}

/** P1 for an echo anchor: sequential round trips of one item through `c`, as `system`. */
export async function addEchoRoundTrip(ctx: Ctx, system: string, c: EchoClient): Promise<void> {
  await guarded(ctx, 'P1', system, 120_000, async () => {
    await addRoundTrip(ctx, system, 'anchor', async (i) => {
      const target = c.received + 1
      c.send({ i, x: i })
      await c.until(target)
    })
  })
}

export async function wireFloorAnchor(ctx: Ctx): Promise<void> {
  const { config } = ctx
  const script = fileURLToPath(new URL('../children/echo-server.ts', import.meta.url))
  const { child, port } = await startLoopbackServer(script, [], 'echo server')
  let client: EchoClient | undefined
  try {
    const ws = new WebSocket(`ws://127.0.0.1:${port}`, { perMessageDeflate: false })
    await withTimeout(once(ws, 'open'), 10_000, 'echo connect')
    const c = new EchoClient(ws)
    client = c
    if (config.only.has('P1')) await addEchoRoundTrip(ctx, FLOOR_SINGLE, c)
    const checked = async (n: number, itemsPerFrame: number, window: number): Promise<void> => {
      c.sum = 0
      const frames = Math.ceil(n / itemsPerFrame)
      await c.pipeline(frames, window, itemsPerFrame, (f) => {
        if (itemsPerFrame === 1) return { i: f, x: f }
        const batch = new Array<Item>(itemsPerFrame)
        for (let k = 0; k < itemsPerFrame; k++)
          batch[k] = { i: f * itemsPerFrame + k, x: f * itemsPerFrame + k }
        return batch
      })
      const items = frames * itemsPerFrame
      if (c.sum !== (items * (items + 1)) / 2) throw new Error('echo returned wrong values')
    }
    if (!config.only.has('P2')) return
    await throughputSeries(ctx, {
      scenario: 'P2',
      system: FLOOR_SINGLE,
      family: 'anchor',
      method: 'pipelined, 1,000 in flight',
      ns: config.ns,
      run: (n) => checked(n, 1, 1000),
    })
    await throughputSeries(ctx, {
      scenario: 'P2',
      system: FLOOR_BATCHED,
      family: 'anchor',
      method: 'pipelined, 100 frames in flight',
      ns: config.ns,
      run: (n) => checked(n, 100, 100),
    })
  } finally {
    client?.close()
    await killChild(child)
  }
}
