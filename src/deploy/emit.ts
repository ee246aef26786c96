import type { DeployContext } from './context.ts';

/** Appends one event of a deployment (or of an app when `deploymentId` is null) to the log and the live streams. */
export function emit(
  ctx: Pick<DeployContext, 'store' | 'clock'>,
  where: { app: string | null; deploymentId: string | null },
  type: string,
  message: string,
  data?: Record<string, unknown>,
): void {
  ctx.store.events.append({ at: ctx.clock.now(), app: where.app, deploymentId: where.deploymentId, type, message, data: data ?? null });
}
