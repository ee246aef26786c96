import { fail } from '../errors/catalogue.ts';
import type { BuildRecord, DeploymentRecord, ReleaseRecord } from '../model/records.ts';
import { requireApp } from './apps.ts';
import type { DeployContext } from './context.ts';
import type { Deployer } from './deployer.ts';

/**
 * Why a release cannot go live again, or undefined when it can: it is not the one serving, it went live
 * once and was not pruned, and its build is still on disk (pure). The API's `rollbackable` and the
 * refusals of a rollback both come from here.
 */
export function rollbackRefusal(release: ReleaseRecord, build: BuildRecord | undefined, currentReleaseId: string | null): string | undefined {
  if (release.id === currentReleaseId) return 'it is the release serving now';
  if (release.status === 'pruned') return 'it was pruned (see deploy.keep_releases)';
  if (release.status !== 'ready') return 'it never went live';
  if (!build || build.removedAt !== null) return 'its build is no longer on disk';
  return undefined;
}

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
  const reason = rollbackRefusal(target, store.builds.get(target.buildId), current.id);
  if (reason !== undefined) throw fail('RELEASE_NOT_ROLLBACKABLE', { app, release: `v${target.version}`, reason });
  return target;
}

/**
 * `berth rollback`: serves an earlier release again through the deploy runbook, reusing its warm
 * (standby) instances and starting only what is missing. Refused (DEPLOY_IN_PROGRESS) while the app deploys.
 */
export function rollback(ctx: Pick<DeployContext, 'store'>, deployer: Pick<Deployer, 'start'>, input: { app: string; release?: string }): DeploymentRecord {
  const { app } = input;
  requireApp(ctx, app);
  const target = resolveRollbackTarget(ctx, app, input.release);
  return deployer.start({ app, kind: 'rollback', description: `rollback to v${target.version}`, wait: false, target });
}
