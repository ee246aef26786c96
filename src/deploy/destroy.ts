import type { DeployContext } from './context.ts';
import type { Deployer } from './deployer.ts';
import { emit } from './emit.ts';
import type { Routing } from './route-publisher.ts';
import { freeBuild } from './builds.ts';
import { removeChaos } from './chaos.ts';

/**
 * Removes an app: its deployments are cancelled, its hostnames leave the proxy, every instance stops,
 * then builds and logs go. The rows go first in one transaction, so a crash half-way leaves only
 * processes the next start treats as orphans; the event log keeps the app's history.
 */
export async function destroyApp(ctx: DeployContext, deployer: Deployer, routing: Routing, app: string): Promise<void> {
  const { store, driver } = ctx;
  await deployer.cancelApp(app, `app ${app} is being destroyed`);
  const instances = store.instances.all(app).filter((i) => i.state !== 'stopped' && i.state !== 'failed');
  const builds = store.builds.listByApp(app).filter((b) => b.removedAt === null);
  store.transaction(() => {
    removeChaos(ctx, app, 'app destroyed');
    store.apps.delete(app);
    emit(ctx, { app, deploymentId: null }, { type: 'app.destroyed', message: `app ${app} destroyed`, data: { instances: instances.length } });
  });
  await routing.publish().catch(() => {});
  await Promise.all(instances.map((i) => driver.stop(i.id)));
  for (const build of builds) await freeBuild(ctx, build).catch(() => {});
  await driver.removeApp(app);
}
