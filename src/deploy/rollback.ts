import { fail } from '../errors/catalogue.ts';
import type { ReleaseRecord } from '../model/records.ts';
import type { DeployContext } from './context.ts';

/**
 * Which release `berth rollback <app> [release]` means: `v3`, `3` or a release id; by default the
 * newest live-able release older than the current one.
 */
export function resolveRollbackTarget(ctx: Pick<DeployContext, 'store'>, app: string, ref: string | undefined): ReleaseRecord {
  const { store } = ctx;
  const record = store.apps.get(app);
  if (!record) throw fail('APP_NOT_FOUND', { app });
  const releases = store.releases.listByApp(app);
  const current = releases.find((r) => r.id === record.currentRelease);
  if (!current) throw fail('APP_HAS_NO_RELEASE', { app });

  let target: ReleaseRecord | undefined;
  if (ref === undefined) {
    target = releases.find((r) => r.version < current.version && r.status === 'ready');
    if (!target) throw fail('RELEASE_NOT_ROLLBACKABLE', { app, release: 'the previous release', reason: `no release older than v${current.version} can still go live` });
  } else {
    const version = /^v?(\d+)$/i.exec(ref.trim());
    target = version ? releases.find((r) => r.version === Number(version[1])) : releases.find((r) => r.id === ref);
    if (!target) throw fail('RELEASE_NOT_FOUND', { app, release: ref });
  }
  const name = `v${target.version}`;
  if (target.id === current.id) throw fail('RELEASE_NOT_ROLLBACKABLE', { app, release: name, reason: 'it is the release serving now' });
  if (target.status === 'pruned') throw fail('RELEASE_NOT_ROLLBACKABLE', { app, release: name, reason: 'it was pruned (see deploy.keep_releases)' });
  if (target.status !== 'ready') throw fail('RELEASE_NOT_ROLLBACKABLE', { app, release: name, reason: 'it never went live' });
  const build = store.builds.get(target.buildId);
  if (!build || build.removedAt !== null) throw fail('RELEASE_NOT_ROLLBACKABLE', { app, release: name, reason: 'its build is no longer on disk' });
  return target;
}
