/**
 * A canary's abort, in the order that keeps clients safe: the rollout is written `aborting` at 0 % and
 * the canary's instances `draining` in one transaction, then the table goes to the proxy (from here no
 * new request reaches the canary: the measured time from the deciding check is milliseconds); then the
 * canary finishes what it has (up to the release's drain timeout), its instances stop, and the rollout
 * is `aborted`. The deployment itself is failed by the runbook with the error the caller throws.
 */
import type { ReleaseRecord } from '../../model/records.ts';
import type { RolloutRecord } from '../../store/rollouts.ts';
import { emit } from '../emit.ts';
import type { Run } from '../steps.ts';

const DRAIN_POLL_MS = 100;

export interface AbortOrder {
  /** Why, in words (the error's message: the verdict and its numbers). */
  reason: string;
  /** analysis, recovery, berth, or who asked (`berth abort`). */
  by: string;
  code: string;
  /** No drain wait (the daemon is stopping): the canary's instances stop at once. */
  quick?: boolean;
  /** Called once all traffic is on stable (the table is with the proxy), before the drain. */
  onTrafficBack?: (rollout: RolloutRecord) => void;
}

export async function abortRollout(run: Pick<Run, 'ctx' | 'routing' | 'deployment' | 'signal'>, release: ReleaseRecord, stable: ReleaseRecord, order: AbortOrder): Promise<RolloutRecord> {
  const { ctx } = run;
  const { store, clock } = ctx;
  const where = { app: run.deployment.app, deploymentId: run.deployment.id };
  const drainMs = release.manifest.deploy.drainTimeoutMs;
  const now = clock.now();
  let rollout = store.transaction(() => {
    for (const instance of store.instances.live(release.app)) {
      if (instance.releaseId !== release.id || instance.state !== 'serving') continue;
      store.instances.move(instance.id, order.quick ? 'stopping' : 'draining', now, order.quick ? {} : { stateUntil: now + drainMs });
    }
    return store.rollouts.update(run.deployment.id, { state: 'aborting', percent: 0, reason: order.reason }, now);
  });
  await run.routing.publish().catch((error) => ctx.log.error('proxy did not take the aborted canary\'s routes yet', { app: release.app, error: error as Error }));
  order.onTrafficBack?.(rollout);

  const canary = () => store.instances.live(release.app).filter((i) => i.releaseId === release.id && (i.state === 'draining' || i.state === 'stopping'));
  if (!order.quick) await waitDrained(run, canary().map((i) => i.id), now + drainMs);
  for (const instance of canary()) {
    if (instance.state === 'draining') store.instances.move(instance.id, 'stopping', clock.now());
    await ctx.driver.stop(instance.id).catch((error) => ctx.log.error('stopping a canary instance failed', { instance: instance.id, error: error as Error }));
    if (store.instances.get(instance.id)?.state === 'stopping') store.instances.move(instance.id, 'stopped', clock.now());
  }
  rollout = store.transaction(() => {
    const ended = store.rollouts.update(run.deployment.id, { state: 'aborted' }, clock.now());
    emit(ctx, where, {
      type: 'canary.aborted',
      message: `${order.reason}; all traffic is back on v${stable.version}`,
      data: { canary: `v${release.version}`, stable: `v${stable.version}`, code: order.code, reason: order.reason, by: order.by },
    });
    return ended;
  });
  await run.routing.publish().catch(() => {});
  return rollout;
}

/**
 * Until the proxy, holding a table in which these instances get nothing new, reports them idle (no
 * request in flight, no WebSocket), or `deadline`. A daemon shutdown cuts the wait short.
 */
async function waitDrained(run: Pick<Run, 'ctx' | 'routing' | 'signal'>, ids: string[], deadline: number): Promise<void> {
  const { ctx } = run;
  while (ids.length > 0 && ctx.clock.now() < deadline && !run.signal.aborted) {
    const stats = await ctx.dataplane.stats().catch(() => null);
    const idle = stats !== null && ids.every((id) => {
      const target = stats.targets[id];
      return run.routing.proxyStoppedSending(id) && (target === undefined || (target.inflight === 0 && target.websockets === 0));
    });
    if (idle) return;
    await ctx.clock.sleep(DRAIN_POLL_MS, run.signal).catch(() => {});
  }
}
