/**
 * Start-up (../recovery.ts): a rollout the store still shows as holding traffic was cut short by a
 * daemon stop. Its switch either happened (the deployment reached `draining`: the rollout is marked
 * promoted) or did not: then the abort is finished here, before the first table is published, so the
 * split never comes back: the canary's instances drain (the reconciler stops them), the rollout is
 * aborted and the deployment failed with the reason. Runs before the interrupted-deployment sweep.
 */
import type { DeploymentError } from '../../model/records.ts';
import type { DeployContext } from '../context.ts';
import { emit } from '../emit.ts';

export function recoverRollouts(ctx: DeployContext): number {
  const { store, clock } = ctx;
  let aborted = 0;
  for (const rollout of store.rollouts.allActive()) {
    const deployment = store.deployments.get(rollout.deploymentId);
    const canary = store.releases.get(rollout.canaryReleaseId);
    const stable = store.releases.get(rollout.stableReleaseId);
    const where = { app: rollout.app, deploymentId: rollout.deploymentId };
    const now = clock.now();
    if (deployment && (deployment.state === 'draining' || deployment.state === 'succeeded')) {
      store.rollouts.update(rollout.deploymentId, { state: 'promoted', percent: 100 }, now);
      continue;
    }
    const names = { canary: canary ? `v${canary.version}` : rollout.canaryReleaseId, stable: stable ? `v${stable.version}` : rollout.stableReleaseId };
    const step = `${rollout.step + 1}/${rollout.steps}`;
    const reason =
      rollout.state === 'aborting' && rollout.reason
        ? `${rollout.reason} (the abort was finished after a daemon restart)`
        : `canary ${names.canary} aborted: the daemon stopped during step ${step} (${rollout.percent} %), so berth cannot vouch for it`;
    const error: DeploymentError = { code: 'CANARY_ABORTED', message: reason, hint: `all traffic went back to ${names.stable}, which kept serving; deploy again`, logTail: [] };
    store.transaction(() => {
      const drainMs = canary?.manifest.deploy.drainTimeoutMs ?? 30_000;
      for (const instance of store.instances.live(rollout.app)) {
        if (instance.releaseId === rollout.canaryReleaseId && instance.state === 'serving') store.instances.move(instance.id, 'draining', now, { stateUntil: now + drainMs });
      }
      store.rollouts.update(rollout.deploymentId, { state: 'aborted', percent: 0, reason }, now);
      emit(ctx, where, { type: 'canary.aborted', message: `${reason}; all traffic is back on ${names.stable}`, data: { ...names, code: 'CANARY_ABORTED', reason, by: 'recovery' } });
      if (deployment && deployment.state !== 'failed' && deployment.state !== 'interrupted' && deployment.state !== 'succeeded') {
        store.deployments.move(deployment.id, 'failed', now, { error });
        if (canary?.status === 'pending') store.releases.setStatus(canary.id, 'failed');
        emit(ctx, where, { type: 'deploy.failed', message: reason, data: { ...error } });
      }
    });
    aborted++;
  }
  return aborted;
}
