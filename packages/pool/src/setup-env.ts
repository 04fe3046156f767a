/**
 * The environment variable through which the pool gives its children `setupModules`: a JSON
 * array of module URLs or specifiers, imported before the child reads its first message.
 */
export const TASK_SETUP_ENV = 'CLUSTERPOOL_TASK_SETUP'
