import { DependencyError, dependencyReason, depRef, type DepRef } from '@clusterpool/protocol'

import type { Future } from '../future/future.js'
import { isFuture, peek } from '../future/internal.js'

/** How a future found in a task's arguments travels. */
export type FutureArgument =
  /** Finished with a value: the value goes in its place. */
  | { kind: 'value'; value: unknown }
  /** Still pending on this executor: a placeholder the coordinator resolves. */
  | { kind: 'dep'; id: number }
  /** Failed or cancelled: the task fails at once with this error. */
  | { kind: 'failed'; error: DependencyError }
  /** Another executor's, still pending: wait for it here, then submit. */
  | { kind: 'foreign' }

/**
 * How deep the walk goes: the encoder refuses values nested deeper than 1000 levels anyway
 * (`UnsendableValueError`), so nothing below is ever sent, and the walk must not overflow the
 * stack on its way to that refusal.
 */
const MAX_WALK_DEPTH = 1001

/**
 * Replaces every future inside `args` (top level, arrays, plain objects, Maps, Sets) following
 * `classify`, copying only the paths that hold futures. Returns the new arguments and the ids of
 * the placeholders it put in, or a failure, or `foreign` if some future must be waited for here.
 * A circular value, or one nested past `MAX_WALK_DEPTH`, is left as it is at that point: the
 * encoder refuses it with an `UnsendableValueError` that names its path.
 */
export function replaceFutures(
  args: unknown[],
  classify: (future: Future<unknown>) => FutureArgument,
): { args: unknown[]; deps: number[] } | { failed: DependencyError } | { foreign: true } {
  const deps = new Set<number>()
  let failed: DependencyError | undefined
  let foreign = false
  /** The containers on the path from the root to the value being walked. */
  const path = new Set<object>()
  /**
   * What each container walked already became: one shared by several parents is walked once
   * (a diamond of them nested 30 deep would otherwise be walked 2³⁰ times) and stays shared.
   */
  const walked = new Map<object, unknown>()
  const walk = (value: unknown): unknown => {
    if (typeof value !== 'object' || value === null) return value
    if (walked.has(value)) return walked.get(value)
    if (path.has(value) || path.size >= MAX_WALK_DEPTH) return value
    if (isFuture(value)) {
      const c = classify(value)
      switch (c.kind) {
        case 'value':
          return c.value
        case 'dep':
          deps.add(c.id)
          return depRef(c.id) satisfies DepRef
        case 'failed':
          failed ??= c.error
          return undefined
        case 'foreign':
          foreign = true
          return undefined
      }
    }
    path.add(value)
    try {
      const out = walkContainer(value)
      walked.set(value, out)
      return out
    } finally {
      path.delete(value)
    }
  }
  const walkContainer = (value: object): unknown => {
    if (Array.isArray(value)) return mapIfChanged(value, walk)
    if (value instanceof Map) {
      let changed = false
      const entries = [...value].map(([k, v]) => {
        const nk = walk(k)
        const nv = walk(v)
        changed ||= nk !== k || nv !== v
        return [nk, nv] as const
      })
      return changed ? new Map(entries) : value
    }
    if (value instanceof Set) {
      const items = [...value]
      const mapped = mapIfChanged(items, walk)
      return mapped === items ? value : new Set(mapped)
    }
    const proto: unknown = Object.getPrototypeOf(value)
    if (proto === Object.prototype || proto === null) {
      let out: Record<string, unknown> | undefined
      for (const [k, v] of Object.entries(value)) {
        const nv = walk(v)
        if (nv !== v) out ??= { ...(value as Record<string, unknown>) }
        if (out) out[k] = nv
      }
      return out ?? value
    }
    return value
  }
  const replaced = mapIfChanged(args, walk)
  if (failed) return { failed }
  if (foreign) return { foreign: true }
  return { args: replaced, deps: [...deps] }
}

/** The distinct futures inside `args` (at any depth) that `select` picks. */
export function futuresIn(
  args: unknown[],
  select: (future: Future<unknown>) => boolean,
): Future<unknown>[] {
  const found = new Set<Future<unknown>>()
  replaceFutures(args, (future) => {
    if (select(future)) found.add(future)
    return { kind: 'foreign' }
  })
  return [...found]
}

function mapIfChanged(items: unknown[], fn: (v: unknown) => unknown): unknown[] {
  let out: unknown[] | undefined
  for (let i = 0; i < items.length; i++) {
    const v = items[i]
    const nv = fn(v)
    if (nv !== v) out ??= items.slice()
    if (out) out[i] = nv
  }
  return out ?? items
}

/** Classifies a finished or foreign future the same way for every executor. */
export function classifyDone(future: Future<unknown>): FutureArgument | undefined {
  const p = peek(future)
  switch (p.state) {
    case 'fulfilled':
      return { kind: 'value', value: p.value }
    case 'rejected':
      return {
        kind: 'failed',
        error: new DependencyError(future.key, `failed: ${dependencyReason(p.error)}`, {
          cause: p.error,
        }),
      }
    case 'cancelled':
      return { kind: 'failed', error: new DependencyError(future.key, 'was cancelled') }
    case 'pending':
    case 'running':
      return undefined
  }
}
