import type { FnRef } from '@clusterpool/protocol'
import { fnLabel } from '@clusterpool/protocol'

/** What the pool knows about one function: the id children know it by, and how long it takes. */
export interface FnInfo {
  /** Never reused within a pool, so a child's cache cannot confuse two functions. */
  readonly id: number
  readonly ref: FnRef
  readonly label: string
  /** Moving average of its run time in ms, measured in the children; NaN until the first. */
  estimateMs: number
  samples: number
}

/** Weight of the newest sample in the moving average. */
const EMA_WEIGHT = 0.3

/** Functions remembered; past this the oldest is forgotten (tasks holding its info keep it). */
const MAX_FUNCTIONS = 4096

/**
 * The pool's functions by key (a source hash, or module URL and export), with their run-time
 * estimates. A task submitted with the same `FnRef` object again is looked up without a key.
 */
export class FnRegistry {
  readonly #byKey = new Map<string, FnInfo>()
  #byRef = new WeakMap<FnRef, FnInfo>()
  #nextId = 1

  get size(): number {
    return this.#byKey.size
  }

  all(): IterableIterator<FnInfo> {
    return this.#byKey.values()
  }

  lookup(ref: FnRef): FnInfo {
    const cached = this.#byRef.get(ref)
    if (cached !== undefined) return cached
    const key = keyOf(ref)
    let info = this.#byKey.get(key)
    if (info === undefined) {
      info = { id: this.#nextId++, ref, label: fnLabel(ref), estimateMs: NaN, samples: 0 }
      this.#byKey.set(key, info)
      if (this.#byKey.size > MAX_FUNCTIONS) {
        const oldest = this.#byKey.keys().next().value as string
        this.#byKey.delete(oldest)
        this.#byRef = new WeakMap() // it may point at the forgotten one
      }
    }
    this.#byRef.set(ref, info)
    return info
  }

  /** Folds one measured run time (ms) into the function's estimate. */
  static record(info: FnInfo, durationMs: number): void {
    if (!(durationMs >= 0)) return
    info.estimateMs =
      info.samples === 0
        ? durationMs
        : info.estimateMs + EMA_WEIGHT * (durationMs - info.estimateMs)
    info.samples++
  }
}

/**
 * The registry key of `ref`. Not `fnKey`'s `url#export`: a URL and an export name may both hold
 * a `#`, so `a.js#b` + `c` and `a.js` + `b#c` would share an entry, and the second function
 * would run the first one's code. JSON of the pair keeps them apart.
 */
function keyOf(ref: FnRef): string {
  return ref.kind === 'source' ? `s:${ref.hash}` : `m:${JSON.stringify([ref.url, ref.exportName])}`
}
