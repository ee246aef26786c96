import { destroyApp } from '../../deploy/destroy.ts';
import { emit } from '../../deploy/emit.ts';
import type { ApiDeps } from '../deps.ts';
import { sendJson } from '../http.ts';
import { operations } from '../operations.ts';
import type { Router } from '../router.ts';
import { appView } from '../views.ts';
import { checkAppName, requireApp } from './common.ts';

export function appRoutes(router: Router, deps: ApiDeps): void {
  const { store, clock } = deps.ctx;

  router.on(operations.listApps, async ({ res }) => {
    sendJson(res, 200, { apps: await Promise.all(store.apps.list().map((app) => appView(deps, app))) });
  });

  router.on(operations.createApp, async ({ res, body }) => {
    const { name } = body;
    checkAppName(name);
    const created = store.transaction(() => {
      const fresh = store.apps.ensure(name, clock.now());
      if (fresh) emit(deps.ctx, { app: name, deploymentId: null }, 'app.created', `app ${name} created`);
      return fresh;
    });
    sendJson(res, created ? 201 : 200, await appView(deps, store.apps.get(name)!));
  });

  router.on(operations.getApp, async ({ res, params }) => {
    sendJson(res, 200, await appView(deps, requireApp(deps, params.app)));
  });

  router.on(operations.destroyApp, async ({ res, params: { app } }) => {
    requireApp(deps, app);
    await destroyApp(deps.ctx, deps.deployer, deps.routing, app);
    sendJson(res, 200, { destroyed: app });
  });
}
