// Module tasks for the examples: imported once per worker process, by URL and export name.

/** The seed's cpu_heavy: a loop of `n` iterations, timed from inside the worker. */
export function cpuHeavy(n: number): { sum: number; startMs: number; endMs: number; pid: number } {
  const startMs = Date.now()
  let sum = 0
  for (let i = 0; i < n; i++) sum += i
  return { sum, startMs, endMs: Date.now(), pid: process.pid }
}
