import { destroyApp } from '../../deploy/destroy.ts';
import { emit } from '../../deploy/emit.ts';
import type { ApiDeps } from '../deps.ts';
import { readJsonBody, sendJson } from '../http.ts';
import type { Router } from '../router.ts';
import { appView } from '../views.ts';
import { asObject, checkAppName, requireApp } from './common.ts';

export function appRoutes(router: Router, deps: ApiDeps): void {
  const { store, clock } = deps.ctx;

  router.on('GET', '/v1/apps', async (_req, res) => {
    sendJson(res, 200, { apps: await Promise.all(store.apps.list().map((app) => appView(deps, app))) });
  });

  router.on('POST', '/v1/apps', async (req, res) => {
    const body = asObject(await readJsonBody(req));
    const name = typeof body.name === 'string' ? body.name : '';
    checkAppName(name);
    const created = store.transaction(() => {
      const fresh = store.apps.ensure(name, clock.now());
      if (fresh) emit(deps.ctx, { app: name, deploymentId: null }, 'app.created', `app ${name} created`);
      return fresh;
    });
    sendJson(res, created ? 201 : 200, await appView(deps, store.apps.get(name)!));
  });

  router.on('GET', '/v1/apps/:app', async (_req, res, { app }) => {
    sendJson(res, 200, await appView(deps, requireApp(deps, app)));
  });

  router.on('DELETE', '/v1/apps/:app', async (_req, res, { app }) => {
    requireApp(deps, app);
    await destroyApp(deps.ctx, deps.deployer, deps.routing, app);
    sendJson(res, 200, { destroyed: app });
  });
}
