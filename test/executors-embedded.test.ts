// The shared executor suite (executor-suite.ts) on the embedded client (`cluster.executor()`:
// in-process link to the coordinator), against a LocalCluster of two real worker daemons.
import { executorSuite } from './executor-suite.js'

executorSuite('embedded')
