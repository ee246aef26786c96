import { fail } from '../errors/catalogue.ts';
import { newId } from '../lib/ids.ts';
import { recordOf } from '../lib/record.ts';
import type { Manifest } from '../manifest/schema.ts';
import { openEnv, sealEnv } from '../secrets/sealer.ts';
import type { ReleaseRecord } from '../model/records.ts';
import type { DeployContext } from './context.ts';
import { serviceImagesFor } from './service-images.ts';

/** The app's env vars as set now, opened. */
export function currentVars(ctx: Pick<DeployContext, 'store' | 'sealer'>, app: string): Record<string, string> {
  return recordOf(ctx.store.env.list(app).map((v) => [v.name, ctx.sealer.open(v.valueSealed)] as const));
}

/** The release the app serves now; APP_HAS_NO_RELEASE before its first deploy. */
export function requireCurrentRelease(ctx: Pick<DeployContext, 'store'>, app: string): ReleaseRecord {
  const record = ctx.store.apps.get(app);
  const current = record?.currentRelease ? ctx.store.releases.get(record.currentRelease) : undefined;
  if (!current) throw fail('APP_HAS_NO_RELEASE', { app });
  return current;
}

export const releaseVars = (ctx: Pick<DeployContext, 'sealer'>, release: ReleaseRecord) => openEnv(ctx.sealer, release.envSealed);

/**
 * Records a new release (build + manifest + env snapshot) with the app's next version number, and ties
 * it to its deployment, in one transaction.
 */
export function createRelease(
  ctx: DeployContext,
  input: { app: string; deploymentId: string; buildId: string; manifest: Manifest; description: string; serviceImages?: Readonly<Record<string, string>>; checks?: ReleaseRecord['checks'] },
): ReleaseRecord {
  const { store, clock } = ctx;
  return store.transaction(() => {
    const serving = store.apps.get(input.app)?.currentRelease;
    const release: ReleaseRecord = {
      id: newId('rel'),
      app: input.app,
      version: store.apps.takeVersion(input.app),
      buildId: input.buildId,
      // berth.yaml as written; the replicas set with `berth scale` beside it, winning until scaled again.
      manifest: input.manifest,
      formation: store.apps.get(input.app)?.formation ?? {},
      envSealed: sealEnv(ctx.sealer, currentVars(ctx, input.app)),
      description: input.description,
      status: 'pending',
      createdAt: clock.now(),
      // Services following their tag keep the digest they run (an update of one changes it): ./service-images.ts.
      serviceImages: serviceImagesFor(serving ? store.releases.get(serving) : undefined, input.manifest, input.serviceImages),
      // The `build` checks it passed, or that its deploy skipped them (./checks.ts).
      checks: input.checks ?? { passed: [], skipped: false },
    };
    store.releases.insert(release);
    const previous = store.apps.get(input.app)?.currentRelease ?? null;
    store.deployments.setReleases(input.deploymentId, release.id, previous, clock.now());
    return release;
  });
}
