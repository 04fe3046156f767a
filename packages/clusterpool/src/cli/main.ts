// The `clusterpool` command: `coordinator`, `worker URL` and `status URL`, as Dask's
// `dask scheduler` / `dask worker`. `bin/clusterpool.js` runs this file.
import { CLUSTERPOOL_VERSION } from '@clusterpool/transport'
import { Command } from 'commander'

import { coordinatorCommand } from './coordinator.js'
import { statusCommand } from './status.js'
import { workerCommand } from './worker.js'

// An empty variable counts as unset (`CLUSTERPOOL_TOKEN= clusterpool …`), as in most tools;
// commander would take it as the value '' and fail on it.
for (const [name, value] of Object.entries(process.env))
  if (name.startsWith('CLUSTERPOOL_') && value === '') delete process.env[name]

const program = new Command('clusterpool')
  .description(
    'Futures on process pools across many machines. Run a coordinator on one host, a worker on ' +
      'every host, and submit from any program with ClusterExecutor.connect(url).',
  )
  .version(CLUSTERPOOL_VERSION)
  .addCommand(coordinatorCommand())
  .addCommand(workerCommand())
  .addCommand(statusCommand())
  .showHelpAfterError()

await program.parseAsync()
