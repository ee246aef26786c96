import { resolveRollbackTarget } from '../../deploy/rollback.ts';
import type { ApiDeps } from '../deps.ts';
import { sendJson } from '../http.ts';
import { operations } from '../operations.ts';
import { runOutsideRequestScope } from '../request-scope.ts';
import type { Router } from '../router.ts';
import { deploymentView, releaseView } from '../views.ts';
import { requireApp } from './common.ts';

export function releaseRoutes(router: Router, deps: ApiDeps): void {
  const { store } = deps.ctx;

  router.on(operations.listReleases, ({ res, params: { app } }) => {
    const record = requireApp(deps, app);
    sendJson(res, 200, { releases: store.releases.listByApp(app).map((r) => releaseView(deps, r, record)) });
  });

  router.on(operations.rollback, ({ res, params: { app }, body }) => {
    requireApp(deps, app);
    const target = resolveRollbackTarget(deps.ctx, app, body.release);
    const deployment = runOutsideRequestScope(() => deps.deployer.start({ app, kind: 'rollback', description: `rollback to v${target.version}`, wait: false, target }));
    sendJson(res, 202, { deployment: deploymentView(deps, deployment) });
  });
}
