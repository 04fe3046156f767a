// The nested-task suite (nested-suite.ts) on the process executor.
import { nestedSuite } from './nested-suite.js'

nestedSuite('process')
