// The shared executor suite (executor-suite.ts) on ThreadPoolExecutor.
import { executorSuite } from './executor-suite.js'

executorSuite('thread')
