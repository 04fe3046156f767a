// The shared executor suite (executor-suite.ts) on ProcessPoolExecutor.
import { executorSuite } from './executor-suite.js'

executorSuite('process')
