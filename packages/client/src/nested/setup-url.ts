/**
 * The module a pool child must load for `currentTask().executor` to exist: pass it in a
 * `TaskPool`'s `setupModules` (the local executors and the clusterpool worker CLI do).
 */
export const TASK_SETUP_MODULE: string = new URL('../task-setup.js', import.meta.url).href
