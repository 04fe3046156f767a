// @clusterpool/coordinator/sim: the scheduler driven by a simulated clock and simulated workers,
// for benchmarks and tests; not part of the product's main entry.
export { simulate } from './simulate.js'
export { lowerBoundMs } from './sim-bound.js'

export type {
  SimInspector,
  SimOptions,
  SimResult,
  SimTask,
  SimWorker,
  SimWorkerResult,
} from './sim-types.js'
