import { createApp, requireApp } from '../../deploy/apps.ts';
import { destroyApp } from '../../deploy/destroy.ts';
import type { ApiDeps } from '../deps.ts';
import { operations } from '../operations.ts';
import { answer } from '../responses.ts';
import type { Router } from '../router.ts';
import { appView } from '../views.ts';

export function appRoutes(router: Router, deps: ApiDeps): void {
  const { ctx } = deps;

  router.on(operations.listApps, async ({ res }) => {
    answer(res, 'listApps', 200, { apps: await Promise.all(ctx.store.apps.list().map((app) => appView(deps, app))) });
  });

  router.on(operations.createApp, async ({ res, body }) => {
    const { app, created } = createApp(ctx, body.name);
    answer(res, 'createApp', created ? 201 : 200, await appView(deps, app));
  });

  router.on(operations.getApp, async ({ res, params }) => {
    answer(res, 'getApp', 200, await appView(deps, requireApp(ctx, params.app)));
  });

  router.on(operations.destroyApp, async ({ res, params: { app } }) => {
    requireApp(ctx, app);
    await destroyApp(ctx, deps.deployer, deps.routing, app);
    answer(res, 'destroyApp', 200, { destroyed: app });
  });
}
