// The shared executor suite (executor-suite.ts) on ClusterExecutor over WebSocket, against a
// LocalCluster of two real worker daemons.
import { executorSuite } from './executor-suite.js'

executorSuite('cluster')
