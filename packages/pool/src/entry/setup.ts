import { TASK_SETUP_ENV } from '../setup-env.js'

/**
 * Imports the pool's `setupModules` (see `TASK_SETUP_ENV`), in order, before the child reads its
 * first message. A module that fails to load is reported on stderr and skipped: the tasks still
 * run, and what the module would have provided (`currentTask().executor`) says it is missing.
 */
export async function loadSetupModules(): Promise<void> {
  const raw = process.env[TASK_SETUP_ENV]
  if (raw === undefined || raw === '') return
  delete process.env[TASK_SETUP_ENV] // not inherited by processes a task starts
  let specifiers: unknown
  try {
    specifiers = JSON.parse(raw)
  } catch {
    console.error(`clusterpool: ${TASK_SETUP_ENV} is not a JSON array; no setup module loaded`)
    return
  }
  if (!Array.isArray(specifiers)) return
  for (const specifier of specifiers) {
    if (typeof specifier !== 'string') continue
    try {
      await import(specifier)
    } catch (error) {
      console.error(`clusterpool: the task setup module ${specifier} failed to load:`, error)
    }
  }
}
