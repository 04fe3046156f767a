/** The extra pipes of a pool child process: parent → child on fd 3, child → parent on fd 4. */
export const CHILD_INPUT_FD = 3
export const CHILD_OUTPUT_FD = 4

/** The environment variable naming a child process's memory share file (see `memory-guard.ts`). */
export const RSS_SHARE_FILE_ENV = 'CLUSTERPOOL_RSS_SHARE_FILE'
