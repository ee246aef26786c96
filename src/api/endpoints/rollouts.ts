import { abortCanary, promoteCanary, showRollout } from '../../deploy/canary/commands.ts';
import type { CanaryRollout } from '../../model/wire-rollout.ts';
import type { RolloutRecord } from '../../store/rollouts.ts';
import type { DeployContext } from '../../deploy/context.ts';
import type { ApiDeps } from '../deps.ts';
import { operations } from '../operations.ts';
import { answer } from '../responses.ts';
import type { Router } from '../router.ts';

const iso = (ms: number) => new Date(ms).toISOString();

/** A stored rollout as the API shows it (also in the App shape while it holds traffic). */
export function rolloutView(ctx: Pick<DeployContext, 'store'>, record: RolloutRecord | null): CanaryRollout | null {
  if (record === null) return null;
  const name = (id: string) => {
    const release = ctx.store.releases.get(id);
    return release ? `v${release.version}` : id;
  };
  return {
    deployment: record.deploymentId,
    state: record.state,
    canary: name(record.canaryReleaseId),
    stable: name(record.stableReleaseId),
    percent: record.percent,
    step: record.step + 1,
    steps: record.steps,
    stepStartedAt: iso(record.stepStartedAt),
    stepEndsAt: iso(record.stepEndsAt),
    last: record.last,
    reason: record.reason,
  };
}

/** The app's running canary, if any, for the App shape. */
export const appRolloutView = (ctx: DeployContext, app: string): CanaryRollout | null => rolloutView(ctx, showRollout(ctx, app));

/**
 * POST `/v1/apps/:app/promote` and `/v1/apps/:app/abort`: the running canary promoted or aborted now
 * (../../deploy/canary/commands.ts). Each answers once its effect is in the proxy's table.
 */
export function rolloutRoutes(router: Router, deps: ApiDeps): void {
  router.on(operations.promote, async ({ res, params: { app }, body }) => {
    const done = await promoteCanary(deps.ctx, app, body.by ?? 'the API');
    answer(res, 'promote', 200, { app, outcome: done.outcome, message: done.message, rollout: rolloutView(deps.ctx, done.rollout)! });
  });
  router.on(operations.abort, async ({ res, params: { app }, body }) => {
    const done = await abortCanary(deps.ctx, app, body.by ?? 'the API');
    answer(res, 'abort', 200, { app, outcome: done.outcome, message: done.message, rollout: rolloutView(deps.ctx, done.rollout)! });
  });
}
