import { mkdirSync, rmSync } from 'node:fs';
import { fail } from '../errors/catalogue.ts';
import { formatHostPort } from '../lib/host-port.ts';
import type { InstanceInfo } from '../runtime/driver.ts';
import type { DeployContext } from './context.ts';
import { emit } from './emit.ts';
import { instanceSpecFor } from './instance-spec.ts';
import { releaseVars } from './releases.ts';
import type { Routing } from './route-publisher.ts';
import { shouldRun } from '../model/states.ts';
import { freeBuild } from './builds.ts';
import { recoverRolls } from './rolling-recovery.ts';
import { recoverRollouts } from './canary/recover.ts';

/**
 * Start-up after a stop or a crash (SIGKILL at any moment): make the store and the runtime agree
 * again before anything else runs.
 *  1. The runtime re-attaches to what survived and drops half-done builds.
 *  2. Deployments caught before their switch are marked interrupted and their new instances stopped;
 *     ones caught draining are left to the reconciler to finish.
 *  3. Instances that should run but are gone are started again; processes berth owns but no longer
 *     wants (orphans) are stopped.
 *  4. The proxy gets the table the store describes.
 */
export async function recover(ctx: DeployContext, routing: Routing): Promise<{ interrupted: number; restarted: number; orphans: number }> {
  const { store, clock, driver, log } = ctx;
  const found = new Map<string, InstanceInfo>((await driver.adopt()).map((i) => [i.id, i]));
  rmSync(ctx.settings.uploadsDir, { recursive: true, force: true });
  mkdirSync(ctx.settings.uploadsDir, { recursive: true, mode: 0o700 });

  // A canary cut short: its abort finished (or its promotion noted) before anything is published (./canary/recover.ts).
  recoverRollouts(ctx);
  let interrupted = 0;
  for (const deployment of store.deployments.unfinished()) {
    if (deployment.state === 'draining') continue;
    const error = fail('DEPLOY_INTERRUPTED', { state: deployment.state });
    store.transaction(() => {
      store.deployments.move(deployment.id, 'interrupted', clock.now(), { error: { code: error.code, message: error.message, hint: error.hint, logTail: [] } });
      if (deployment.releaseId) {
        const release = store.releases.get(deployment.releaseId);
        if (release?.status === 'pending') store.releases.setStatus(release.id, 'failed');
      }
      emit(ctx, { app: deployment.app, deploymentId: deployment.id }, { type: 'deploy.interrupted', message: error.message });
    });
    interrupted++;
  }

  let restarted = 0;
  for (const instance of store.instances.live()) {
    if (instance.state === 'starting') {
      // Its deployment never switched: nothing routes to it.
      await driver.stop(instance.id);
      store.instances.move(instance.id, 'failed', clock.now());
      continue;
    }
    if (!shouldRun(instance.state)) continue;
    const actual = found.get(instance.id);
    if (actual && actual.state !== 'missing' && actual.state !== 'exited') {
      if (actual.address) store.instances.setAddress(instance.id, formatHostPort(actual.address), clock.now());
      continue;
    }
    // Gone without a trace (the host rebooted, the runtime state was lost): start it again as it was.
    try {
      const release = store.releases.get(instance.releaseId)!;
      const build = store.builds.get(release.buildId)!;
      const info = await driver.start(instanceSpecFor({ id: instance.id, release, build, process: instance.process, vars: releaseVars(ctx, release) }));
      store.instances.setAddress(instance.id, info.address ? formatHostPort(info.address) : null, clock.now());
      restarted++;
    } catch (error) {
      log.error('could not start a lost instance again', { instance: instance.id, error: error as Error });
    }
  }

  // A rolling deploy cut short: the current release gets its slots back, the new instances drain (./rolling-recovery.ts).
  restarted += await recoverRolls(ctx, routing);

  const wanted = new Set(store.instances.live().filter((i) => shouldRun(i.state) || i.state === 'stopping').map((i) => i.id));
  let orphans = 0;
  for (const info of found.values()) {
    if (wanted.has(info.id) || info.state === 'missing') continue;
    log.warn('stopping an instance berth no longer wants', { instance: info.id, app: info.app });
    await driver.stop(info.id);
    orphans++;
  }

  for (const app of store.apps.list()) {
    for (const build of store.builds.unreferenced(app.name)) {
      await freeBuild(ctx, build).catch(() => {});
    }
  }
  await removeUnknownHoldings(ctx);
  await routing.publish();
  log.info('recovered', { interrupted, restarted, orphans, instances: wanted.size });
  return { interrupted, restarted, orphans };
}

/**
 * What a crash left that the store no longer knows: the rest of an app whose destroy was cut short after
 * its rows went (services, network, volumes, images, logs), and an artifact whose build finished just
 * before the crash, before its row was written. Runs after the orphan instances are stopped.
 */
async function removeUnknownHoldings(ctx: DeployContext): Promise<void> {
  const { store, driver, log } = ctx;
  const held = await driver.holdings();
  const apps = new Set(store.apps.list().map((a) => a.name));
  const artifacts = new Set(store.builds.liveArtifacts());
  for (const artifact of held.artifacts) {
    if (artifacts.has(artifact)) continue;
    log.warn('removing an artifact no build record names', { artifact });
    await driver.removeArtifact(artifact).catch((error) => log.error('could not remove an unknown artifact', { artifact, error: error as Error }));
  }
  for (const app of held.apps) {
    if (apps.has(app)) continue;
    log.warn('removing what a destroyed app left behind', { app });
    await driver.removeApp(app).catch((error) => log.error('could not remove a destroyed app\'s leftovers', { app, error: error as Error }));
  }
}
