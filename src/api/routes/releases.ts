import { resolveRollbackTarget } from '../../deploy/rollback.ts';
import type { ApiDeps } from '../deps.ts';
import { readJsonBody, sendJson } from '../http.ts';
import type { Router } from '../router.ts';
import { deploymentView, releaseView } from '../views.ts';
import { asObject, invalid, requireApp } from './common.ts';

export function releaseRoutes(router: Router, deps: ApiDeps): void {
  const { store } = deps.ctx;

  router.on('GET', '/v1/apps/:app/releases', (_req, res, { app }) => {
    const record = requireApp(deps, app);
    sendJson(res, 200, { releases: store.releases.listByApp(app).map((r) => releaseView(deps, r, record)) });
  });

  router.on('POST', '/v1/apps/:app/rollback', async (req, res, { app }) => {
    requireApp(deps, app);
    const body = asObject(await readJsonBody(req));
    if (body.release !== undefined && typeof body.release !== 'string') {
      invalid([{ path: 'release', message: 'must be a release name such as "v3" or a release id', fix: '{"release": "v3"}' }]);
    }
    const target = resolveRollbackTarget(deps.ctx, app, body.release as string | undefined);
    const deployment = deps.deployer.start({ app, kind: 'rollback', description: `rollback to v${target.version}`, wait: false, target });
    sendJson(res, 202, { deployment: deploymentView(deps, deployment) });
  });
}
