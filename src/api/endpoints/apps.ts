import { createApp, requireApp } from '../../deploy/apps.ts';
import { destroyApp } from '../../deploy/destroy.ts';
import type { ApiDeps } from '../deps.ts';
import { sendJson } from '../http.ts';
import { operations } from '../operations.ts';
import type { Router } from '../router.ts';
import { appView } from '../views.ts';

export function appRoutes(router: Router, deps: ApiDeps): void {
  const { ctx } = deps;

  router.on(operations.listApps, async ({ res }) => {
    sendJson(res, 200, { apps: await Promise.all(ctx.store.apps.list().map((app) => appView(deps, app))) });
  });

  router.on(operations.createApp, async ({ res, body }) => {
    const { app, created } = createApp(ctx, body.name);
    sendJson(res, created ? 201 : 200, await appView(deps, app));
  });

  router.on(operations.getApp, async ({ res, params }) => {
    sendJson(res, 200, await appView(deps, requireApp(ctx, params.app)));
  });

  router.on(operations.destroyApp, async ({ res, params: { app } }) => {
    requireApp(ctx, app);
    await destroyApp(ctx, deps.deployer, deps.routing, app);
    sendJson(res, 200, { destroyed: app });
  });
}
