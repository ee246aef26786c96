import type { DeploymentRecord, InstanceRecord, ReleaseRecord } from '../model/records.ts';
import type { DeployContext } from './context.ts';
import { emit } from './emit.ts';
import { withFormation } from './formation.ts';
import type { Routing } from './route-publisher.ts';
import { gateInstances, startInputs, startInstance, type Run } from './steps.ts';
import { Tail, UndoStack } from './undo.ts';

/**
 * Start-up (./recovery.ts), after the interrupted deployments are marked and lost instances started again:
 * a rolling deploy cut short (daemon crash or shutdown) may have left new-release instances serving beside
 * the current release, which then lacks the slots they took. The rule, the simplest safe one: the current
 * release stays current; its missing slots start again (all at once, through the health gate), and only
 * once they serve do the new-release instances drain. If the old release cannot start, the new instances
 * keep serving (capacity first) and the failure is logged; the next deploy replaces them.
 *
 * Only for deploys that rolled (`deploy.batch` events): a canary's leftovers are ./canary/recover.ts's.
 * Resolves with the number of instances started again.
 */
export async function recoverRolls(ctx: DeployContext, routing: Routing): Promise<number> {
  let restored = 0;
  for (const app of ctx.store.apps.list()) {
    const last = ctx.store.deployments.listByApp(app.name, 1)[0];
    if (!last || !app.currentRelease || (last.state !== 'interrupted' && last.state !== 'failed') || !last.releaseId || last.releaseId === app.currentRelease) continue;
    const strays = ctx.store.instances.live(app.name).filter((i) => i.releaseId === last.releaseId && i.state === 'serving');
    if (strays.length === 0 || !ctx.store.events.forDeployment(last.id).some((e) => e.type === 'deploy.batch')) continue;
    const current = ctx.store.releases.get(app.currentRelease);
    if (current) restored += await restore(ctx, routing, last, current, strays);
  }
  return restored;
}

async function restore(ctx: DeployContext, routing: Routing, deployment: DeploymentRecord, current: ReleaseRecord, strays: InstanceRecord[]): Promise<number> {
  const { store, clock, log } = ctx;
  const manifest = withFormation(current.manifest, current.formation);
  // Bounded: health deadline for the gate, plus the starts themselves.
  const run: Run = { ctx, routing, deployment, signal: AbortSignal.timeout(current.manifest.health.deadlineMs + 60_000), undo: new UndoStack(), tail: new Tail() };
  const started: InstanceRecord[] = [];
  try {
    const serving = store.instances.live(current.app).filter((i) => i.releaseId === current.id && i.state === 'serving');
    const inputs = startInputs(run, current);
    for (const [process, spec] of Object.entries(manifest.processes)) {
      const taken = new Set(serving.filter((i) => i.process === process).map((i) => i.ordinal));
      for (let ordinal = 0; ordinal < spec.replicas; ordinal++) {
        if (!taken.has(ordinal)) started.push(await startInstance(run, current, inputs, { process, ordinal }));
      }
    }
    if (started.length > 0) await gateInstances(run, current, started);
  } catch (error) {
    for (const instance of started) {
      await ctx.driver.stop(instance.id).catch(() => {});
      store.instances.move(instance.id, 'failed', clock.now());
    }
    log.error('putting the current release back after an interrupted rolling deploy failed; the new instances keep serving', { app: current.app, error: error as Error });
    return 0;
  }
  store.transaction(() => {
    const now = clock.now();
    for (const instance of started) store.instances.move(instance.id, 'serving', now);
    for (const instance of strays) {
      const drainMs = store.releases.get(instance.releaseId)?.manifest.deploy.drainTimeoutMs ?? 30_000;
      store.instances.move(instance.id, 'draining', now, { stateUntil: now + drainMs });
    }
    emit(ctx, { app: current.app, deploymentId: deployment.id }, {
      type: 'deploy.batch',
      message: `after a restart: v${current.version} put back on its replicas (${started.length} started), ${strays.length} new instance(s) retired`,
      data: { process: Object.keys(manifest.processes).join(','), batch: 1, of: 1, started: started.length, retired: strays.length, rollback: true },
    });
  });
  await routing.publish().catch((error) => log.error('route table not published', { error: error as Error }));
  return started.length;
}
