/** Counts events per second over a sliding window of whole seconds. */
export class Throughput {
  readonly #buckets: number[]
  readonly #windowS: number
  #second = Math.floor(Date.now() / 1000)

  constructor(windowS = 5) {
    this.#windowS = windowS
    this.#buckets = new Array<number>(windowS + 1).fill(0)
  }

  add(n: number): void {
    this.#roll()
    this.#buckets[this.#second % this.#buckets.length]! += n
  }

  /** Events per second over the last full seconds of the window. */
  perSecond(): number {
    this.#roll()
    let sum = 0
    for (let i = 1; i <= this.#windowS; i++)
      sum += this.#buckets[(this.#second - i + this.#buckets.length) % this.#buckets.length]!
    return sum / this.#windowS
  }

  #roll(): void {
    const now = Math.floor(Date.now() / 1000)
    const steps = Math.min(now - this.#second, this.#buckets.length)
    for (let i = 1; i <= steps; i++) this.#buckets[(this.#second + i) % this.#buckets.length] = 0
    this.#second = now
  }
}
