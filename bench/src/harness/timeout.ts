// Deadlines for anything that could hang: a stuck scenario fails alone, the rest continue.

export class BenchTimeoutError extends Error {
  override readonly name = 'BenchTimeoutError'
}

/** Resolves like `promise`, or rejects with `BenchTimeoutError` after `ms` milliseconds. */
export async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(new BenchTimeoutError(`${what} did not finish within ${Math.round(ms / 1000)} s`)),
      ms,
    )
  })
  try {
    return await Promise.race([promise, deadline])
  } finally {
    clearTimeout(timer)
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

export function errorText(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`
  return String(error)
}
