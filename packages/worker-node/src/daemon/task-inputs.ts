import {
  InvalidOptionError,
  SourceCache,
  createDecoder,
  createEncoder,
  encodeValue,
  substituteDeps,
  type AssignTask,
  type FnRef,
} from '@clusterpool/protocol'

import type { HeldData } from './held-data.js'

/**
 * What a task needs before the pool can run it: its function (shipped source is sent once per
 * connection, then named by hash) and its arguments with the dependency values put in.
 *
 * Sources are kept in a `SourceCache`: a source that does not hash to its hash is refused (the
 * task fails with `InvalidTaskError`) before anything compiles it. The coordinator sends each
 * source once per connection and then names it by hash, so every source sent is held until the
 * connection ends.
 */
export class TaskInputs {
  readonly #sources = new SourceCache({ idleEntries: 0 })
  readonly #encoder = createEncoder()
  readonly #decoder = createDecoder()

  /** A new connection: the coordinator sends every function's source again. */
  forgetSources(): void {
    this.#sources.clear()
  }

  /** Keeps the source an assign carries without running it (an assign answered from the outage). */
  remember(t: AssignTask): void {
    try {
      this.resolveFn(t)
    } catch {
      // A bad source: the assign that names it by hash later fails as it would have.
    }
  }

  /**
   * Throws `InvalidTaskError` for a source that does not match its hash, and
   * `InvalidOptionError` for a hash never sent on this connection.
   */
  resolveFn(t: AssignTask): FnRef {
    if (t.fn.kind === 'module') return t.fn
    const fresh = t.fn.source !== undefined && this.#sources.get(t.fn.hash) === undefined
    const known = this.#sources.resolve(t.fn, fresh)
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
