import { requireApp } from '../../deploy/apps.ts';
import { rollback } from '../../deploy/rollback.ts';
import type { ApiDeps } from '../deps.ts';
import { operations } from '../operations.ts';
import { answer } from '../responses.ts';
import type { Router } from '../router.ts';
import { deploymentView, releaseView } from '../views.ts';
import { detachedDeployer } from './common.ts';

export function releaseRoutes(router: Router, deps: ApiDeps): void {
  const { store } = deps.ctx;

  router.on(operations.listReleases, ({ res, params: { app } }) => {
    const record = requireApp(deps.ctx, app);
    answer(res, 'listReleases', 200, { releases: store.releases.listByApp(app).map((r) => releaseView(deps, r, record)) });
  });

  router.on(operations.rollback, ({ res, params: { app }, body }) => {
    const deployment = rollback(deps.ctx, detachedDeployer(deps), { app, release: body.release });
    answer(res, 'rollback', 202, { deployment: deploymentView(deps, deployment) });
  });
}
