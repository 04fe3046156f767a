// Worker-daemon parts for clusterpool's own packages, tests and the bench; not the public API.
export { SpillStore, SpillFullError } from './daemon/memory/spill-store.js'
export { MemoryMachine, MemoryState, MEMORY_TRANSITIONS } from './daemon/memory/memory-state.js'
export { resolveMemoryOptions, MEMORY_DEFAULTS } from './daemon/memory/options.js'
