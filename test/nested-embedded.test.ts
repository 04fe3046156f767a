// The nested-task suite (nested-suite.ts) on the embedded executor.
import { nestedSuite } from './nested-suite.js'

nestedSuite('embedded')
