import type { BerthEvent } from '../model/events.ts';
import { maskDeep } from '../runtime/mask-secrets.ts';
import type { DeployContext } from './context.ts';

/**
 * Appends one event of a deployment (or of an app when `deploymentId` is null) to the log and the live
 * streams. Message and data are masked with the app's secrets first: they carry build and app output,
 * driver and engine errors, and events are append-only, so a secret written here could never be removed.
 */
export function emit(ctx: Pick<DeployContext, 'store' | 'clock' | 'secrets'>, where: { app: string | null; deploymentId: string | null }, event: BerthEvent): void {
  const mask = ctx.secrets.masker(where);
  const data = 'data' in event ? event.data : undefined;
  ctx.store.events.append({
    at: ctx.clock.now(),
    app: where.app,
    deploymentId: where.deploymentId,
    type: event.type,
    message: mask(event.message),
    data: data ? (maskDeep(data, mask) as Record<string, unknown>) : null,
  });
}

/** `emit` for what reports about an app outside any deployment (the health monitor). */
export const reportTo =
  (ctx: Pick<DeployContext, 'store' | 'clock' | 'secrets'>) =>
  (app: string, event: BerthEvent): void =>
    emit(ctx, { app, deploymentId: null }, event);
