import type { ApiDeps } from '../deps.ts';
import { operations } from '../operations.ts';
import { runOutsideRequestScope } from '../request-scope.ts';
import { answer } from '../responses.ts';
import type { Router } from '../router.ts';

export function systemRoutes(router: Router, deps: ApiDeps): void {
  router.on(operations.info, ({ res }) => {
    answer(res, 'info', 200, {
      version: deps.version,
      driver: deps.ctx.driver.name,
      baseDomain: deps.config.baseDomain,
      http: deps.ctx.settings.http,
      api: deps.apiAddress(),
      dataDir: deps.config.dataDir,
    });
  });

  router.on(operations.shutdown, ({ res, body }) => {
    const stopApps = body.stopApps === true;
    answer(res, 'shutdown', 202, { stopping: true, stopApps });
    // The shutdown outlives this request: its errors are not the request's (../request-scope.ts).
    runOutsideRequestScope(() => deps.shutdown({ stopApps }));
  });
}
