// The nested-task suite (nested-suite.ts) on the thread executor.
import { nestedSuite } from './nested-suite.js'

nestedSuite('thread')
