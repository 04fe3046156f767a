// The nested-task suite (nested-suite.ts) on the cluster executor.
import { nestedSuite } from './nested-suite.js'

nestedSuite('cluster')
