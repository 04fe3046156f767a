import {
  InvalidOptionError,
  createDecoder,
  createEncoder,
  encodeValue,
  substituteDeps,
  type AssignTask,
  type FnRef,
  type SourceFnRef,
} from '@clusterpool/protocol'

import type { HeldData } from './held-data.js'

/**
 * What a task needs before the pool can run it: its function (shipped source is sent once per
 * connection, then named by hash) and its arguments with the dependency values put in.
 */
export class TaskInputs {
  readonly #sources = new Map<string, SourceFnRef>()
  readonly #encoder = createEncoder()
  readonly #decoder = createDecoder()

  /** A new connection: the coordinator sends every function's source again. */
  forgetSources(): void {
    this.#sources.clear()
  }

  /** Throws `InvalidOptionError` for a hash never sent on this connection. */
  resolveFn(t: AssignTask): FnRef {
    if (t.fn.kind === 'module') return t.fn
    if (t.fn.source !== undefined) {
      const ref: SourceFnRef = {
        kind: 'source',
        hash: t.fn.hash,
        source: t.fn.source,
        name: t.fn.name,
      }
      this.#sources.set(t.fn.hash, ref)
      return ref
    }
    const known = this.#sources.get(t.fn.hash)
    if (!known)
      throw new InvalidOptionError(
        `task ${t.key}: function ${t.fn.hash} was never sent to this worker`,
      )
    return known
  }

  /**
   * Puts dependency values where the client left `DepRef`s. Throws `InvalidOptionError` for a
   * dependency neither sent along nor held.
   */
  substitute(t: AssignTask, held: HeldData): Uint8Array {
    const values = new Map<number, unknown>()
    for (const d of t.deps ?? []) {
      const bytes = d.value ?? held.get(d.key)
      if (bytes === undefined)
        throw new InvalidOptionError(`task ${t.key}: dependency ${d.key} is not on this worker`)
      values.set(d.id, this.#decoder.decode(bytes))
    }
    const decoded = this.#decoder.decode(t.args)
    // encodeValue, not a bare encode: it boxes Maps, which a bare encode turns into objects.
    return encodeValue(
      this.#encoder,
      substituteDeps(decoded, (depId) => values.get(depId)),
      'argument',
    )
  }
}
