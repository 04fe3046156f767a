import type { ChildProcess } from 'node:child_process'
import { spawn } from 'node:child_process'
import { readFileSync, rmSync } from 'node:fs'
import type { Readable, Writable } from 'node:stream'

import { ProtocolError } from '@clusterpool/protocol'

import { createBatchEncoder, createParentBatchDecoder } from '../batch-codec.js'
import { CHILD_INPUT_FD, CHILD_OUTPUT_FD, RSS_SHARE_FILE_ENV } from '../child-fds.js'
import { guardReportPath, type GuardReport } from '../entry/memory-guard.js'
import { FrameReader, encodePipeFrame } from '../framing.js'
import type { ToChild } from '../messages.js'
import { processEntryPath, processLoaderArgs } from './entry-path.js'
import { trackChild, untrackChild } from './exit-hook.js'
import type { ChildExit, ChildHandle, ChildHandleEvents } from './child-handle.js'

export interface ProcessChildOptions {
  readonly execArgv: readonly string[]
  readonly env: Readonly<Record<string, string>> | undefined
  readonly memoryLimitMb: number | undefined
  readonly rssShareFile: string | undefined
}

/**
 * After the process exits, how long to wait for its result pipe to drain and close. A
 * grandchild that inherited the pipe could hold it open; the exit is reported regardless.
 */
const PIPE_DRAIN_GRACE_MS = 500

/**
 * A child process running `process-entry`: frames go out on fd 3 and come back on fd 4; its
 * stdout and stderr are this process's, so task logs show.
 *
 * The exit is reported once both the process has exited and its result pipe has closed (every
 * result it wrote has been read), or the grace period after the exit has passed.
 */
export class ProcessChild implements ChildHandle {
  readonly kind = 'process'
  readonly threadId = undefined
  readonly #child: ChildProcess
  readonly #input: Writable
  readonly #output: Readable
  readonly #events: ChildHandleEvents
  readonly #encoder = createBatchEncoder()
  readonly #decoder = createParentBatchDecoder()
  readonly #reader = new FrameReader()
  #exit: { code: number | null; signal: NodeJS.Signals | null } | undefined
  #outputClosed = false
  #error: Error | undefined
  #ended = false
  #graceTimer: NodeJS.Timeout | undefined
  readonly #rssShareFile: string | undefined

  constructor(options: ProcessChildOptions, events: ChildHandleEvents) {
    this.#events = events
    this.#rssShareFile = options.rssShareFile
    const args = [...processLoaderArgs()]
    if (options.memoryLimitMb !== undefined) {
      args.push(`--max-old-space-size=${Math.max(1, Math.floor(options.memoryLimitMb))}`)
    }
    args.push(...options.execArgv, processEntryPath())
    this.#child = spawn(process.execPath, args, {
      stdio: ['ignore', 'inherit', 'inherit', 'pipe', 'pipe'],
      env: {
        ...process.env,
        ...options.env,
        ...(options.rssShareFile === undefined
          ? {}
          : { [RSS_SHARE_FILE_ENV]: options.rssShareFile }),
      },
      windowsHide: true,
    })
    trackChild(this.#child)
    this.#input = this.#child.stdio[CHILD_INPUT_FD] as Writable
    this.#output = this.#child.stdio[CHILD_OUTPUT_FD] as Readable
    this.#input.on('error', () => {
      // EPIPE once the child is gone: its exit is reported separately.
    })
    this.#output.on('data', (chunk: Buffer) => this.#onData(chunk))
    this.#output.on('error', () => {})
    this.#output.on('close', () => {
      this.#outputClosed = true
      if (this.#exit !== undefined) this.#end()
    })
    this.#child.on('error', (error) => {
      // Failed to start (or to be signalled): without a pid there will be no 'exit'.
      this.#error ??= error
      if (this.#child.pid === undefined) {
        this.#exit ??= { code: null, signal: null }
        this.#end()
      }
    })
    this.#child.on('exit', (code, signal) => {
      this.#exit = { code, signal }
      untrackChild(this.#child)
      if (this.#outputClosed) this.#end()
      else this.#graceTimer = setTimeout(() => this.#end(), PIPE_DRAIN_GRACE_MS).unref()
    })
  }

  get pid(): number | undefined {
    return this.#child.pid
  }

  send(messages: readonly ToChild[]): void {
    if (this.#ended || this.#exit !== undefined || this.#input.destroyed) return
    this.#input.write(encodePipeFrame(this.#encoder.encode(messages)))
  }

  kill(): void {
    if (this.#exit === undefined) this.#child.kill('SIGKILL')
  }

  setRef(ref: boolean): void {
    const handles = [this.#child, this.#input, this.#output] as {
      ref?: () => void
      unref?: () => void
    }[]
    for (const h of handles) {
      if (ref) h.ref?.()
      else h.unref?.()
    }
  }

  #onData(chunk: Buffer): void {
    if (this.#ended) return
    let messages
    try {
      const frames = this.#reader.push(chunk)
      messages = frames.map((frame) => this.#decoder.decode(frame))
    } catch (error) {
      this.#error ??= new ProtocolError(
        `the pool's child process ${this.pid ?? '?'} sent a malformed frame; it was killed`,
        { cause: error },
      )
      this.#output.destroy()
      this.kill()
      return
    }
    for (const batch of messages) this.#events.onMessages(batch)
  }

  /** What the process's memory guard wrote before it killed the process; undefined if it did not. */
  #guardReport(): GuardReport | undefined {
    const pid = this.#child.pid
    if (this.#rssShareFile === undefined || pid === undefined) return undefined
    if (this.#exit?.signal !== 'SIGKILL') return undefined
    const file = guardReportPath(this.#rssShareFile, pid)
    try {
      const report = JSON.parse(readFileSync(file, 'latin1')) as Partial<GuardReport>
      rmSync(file, { force: true })
      const { rssBytes, shareBytes } = report
      if (typeof rssBytes === 'number' && typeof shareBytes === 'number')
        return { rssBytes, shareBytes }
    } catch {
      // No report: something else killed it.
    }
    return undefined
  }

  #end(): void {
    if (this.#ended) return
    this.#ended = true
    if (this.#graceTimer !== undefined) clearTimeout(this.#graceTimer)
    untrackChild(this.#child)
    this.#output.destroy()
    this.#input.destroy()
    const memory = this.#guardReport()
    const exit: ChildExit = {
      code: this.#exit?.code ?? null,
      signal: this.#exit?.signal ?? null,
      error: this.#error,
      ...(memory === undefined ? {} : { memory }),
    }
    this.#events.onExit(exit)
  }
}
