import type { DeployContext } from './context.ts';
import { emit } from './emit.ts';
import { freeBuild } from './builds.ts';

/**
 * Keeps the newest `deploy.keep_releases` releases that went live (for rollback) and frees the rest:
 * their builds leave the disk once no kept release uses them, and their logs go too.
 */
export async function prune(ctx: DeployContext, app: string): Promise<void> {
  const { store } = ctx;
  const current = store.apps.get(app)?.currentRelease;
  const releases = store.releases.listByApp(app);
  const keep = releases.find((r) => r.id === current)?.manifest.deploy.keepReleases ?? 5;
  const live = new Set(store.instances.live(app).map((i) => i.releaseId));
  const ready = releases.filter((r) => r.status === 'ready');
  const doomed = ready.slice(keep).filter((r) => r.id !== current && !live.has(r.id));
  for (const release of doomed) {
    store.transaction(() => {
      store.releases.setStatus(release.id, 'pruned');
      emit(ctx, { app, deploymentId: null }, { type: 'release.pruned', message: `v${release.version} pruned (keeping ${keep} releases)`, data: { release: release.id } });
    });
    await ctx.driver.removeLogs(app, `v${release.version}`);
  }
  for (const build of store.builds.unreferenced(app)) {
    await freeBuild(ctx, build);
  }
}
