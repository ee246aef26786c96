/**
 * `berth promote APP` and `berth abort APP` as use cases (the API calls these): the app must exist, and
 * a canary of it must be running here (NO_CANARY_RUNNING otherwise). A promote is still judged by the
 * `promote` policies (CANARY_PROMOTE_DENIED keeps the canary running); an abort always goes through.
 * Both are recorded: the canary's own events (`canary.promoted`, `canary.aborted`) name who asked.
 */
import { requireApp } from '../apps.ts';
import type { DeployContext } from '../context.ts';
import type { RolloutRecord } from '../../store/rollouts.ts';
import { canaryControls, type CanaryOutcome } from './controls.ts';

export async function promoteCanary(ctx: DeployContext, app: string, by: string): Promise<CanaryOutcome> {
  requireApp(ctx, app);
  return canaryControls(ctx).promote(app, by);
}

export async function abortCanary(ctx: DeployContext, app: string, by: string): Promise<CanaryOutcome> {
  requireApp(ctx, app);
  return canaryControls(ctx).abort(app, by);
}

/** The app's rollout for `berth status`: the active one, else none (a finished one is the last deployment's story). */
export function showRollout(ctx: DeployContext, app: string): RolloutRecord | null {
  return ctx.store.rollouts.active(app) ?? null;
}
