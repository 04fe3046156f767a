// The no-op task of the piscina anchor (loaded by piscina's worker threads).
export default function inc(x: number): number {
  return x + 1
}
