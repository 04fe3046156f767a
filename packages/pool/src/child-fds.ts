/** The extra pipes of a pool child process: parent → child on fd 3, child → parent on fd 4. */
export const CHILD_INPUT_FD = 3
export const CHILD_OUTPUT_FD = 4
