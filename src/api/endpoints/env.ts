import { requireApp } from '../../deploy/apps.ts';
import { changeEnv } from '../../deploy/change-env.ts';
import { envDrift } from '../../deploy/env.ts';
import { currentVars, releaseVars } from '../../deploy/releases.ts';
import type { ApiDeps } from '../deps.ts';
import { operations } from '../operations.ts';
import { answer } from '../responses.ts';
import type { Router } from '../router.ts';
import { deploymentView } from '../views.ts';
import { detachedDeployer } from './common.ts';

/**
 * The app's env vars. Values are sealed at rest and leave the server only with ?reveal=1; events and
 * logs carry names only. A change rolls out as a new release through the same health-gated path.
 */
export function envRoutes(router: Router, deps: ApiDeps): void {
  const { store, sealer } = deps.ctx;

  // `serving: false` marks a var the serving release does not run with (yet); `unsetButServed` lists names
  // unset since it was made. Both clear with the next release that succeeds.
  router.on(operations.getEnv, ({ res, params: { app }, query }) => {
    const record = requireApp(deps.ctx, app);
    const current = record.currentRelease ? store.releases.get(record.currentRelease) : undefined;
    const drift = envDrift(currentVars(deps.ctx, app), current ? releaseVars(deps.ctx, current) : null);
    const vars = store.env.list(app).map((v) => ({
      name: v.name,
      updatedAt: new Date(v.updatedAt).toISOString(),
      serving: !drift.pending.has(v.name),
      ...(query.reveal ? { value: sealer.open(v.valueSealed) } : {}),
    }));
    answer(res, 'getEnv', 200, { app, release: current ? `v${current.version}` : null, vars, unsetButServed: drift.unsetButServed });
  });

  router.on(operations.patchEnv, ({ res, params: { app }, body }) => {
    const { changed, deployment } = changeEnv(deps.ctx, detachedDeployer(deps), { app, set: body.set, unset: body.unset });
    answer(res, 'patchEnv', 202, { changed, deployment: deployment ? deploymentView(deps, deployment) : null });
  });
}
