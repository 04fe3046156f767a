import { ClusterExecutor } from '@clusterpool/client'
import type { Coordinator } from '@clusterpool/coordinator'

/**
 * A client of a coordinator that runs in this process, with the full Executor API. Messages go
 * to the coordinator as objects over an in-process link: no socket, no encoding.
 *
 * ```ts
 * await using coordinator = await Coordinator.start({ port: 8786, token })
 * await using ex = embeddedExecutor(coordinator)
 * console.log(await ex.submit((x: number) => x * 2, 21))
 * ```
 */
export function embeddedExecutor(
  coordinator: Coordinator,
  options: { name?: string } = {},
): ClusterExecutor {
  const { link, welcome } = coordinator.openClientLink(options.name ?? 'embedded')
  return ClusterExecutor.overLink(link, welcome)
}
