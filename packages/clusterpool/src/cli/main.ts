// The `clusterpool` command: `coordinator`, `worker URL` and `status URL`, as Dask's
// `dask scheduler` / `dask worker`. `bin/clusterpool.js` runs this file.
import { CLUSTERPOOL_VERSION } from '@clusterpool/transport'
import { Command } from 'commander'

import { coordinatorCommand } from './coordinator.js'
import { statusCommand } from './status.js'
import { workerCommand } from './worker.js'

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
