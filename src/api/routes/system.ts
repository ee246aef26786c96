import type { ApiDeps } from '../deps.ts';
import { readJsonBody, sendJson } from '../http.ts';
import type { Router } from '../router.ts';
import { asObject } from './common.ts';

export function systemRoutes(router: Router, deps: ApiDeps): void {
  router.on('GET', '/v1/info', (_req, res) => {
    sendJson(res, 200, {
      version: deps.version,
      driver: deps.ctx.driver.name,
      baseDomain: deps.config.baseDomain,
      http: deps.ctx.settings.http,
      api: deps.apiAddress(),
      dataDir: deps.config.dataDir,
    });
  });

  router.on('POST', '/v1/system/shutdown', async (req, res) => {
    const body = asObject(await readJsonBody(req));
    const stopApps = body.stopApps === true;
    sendJson(res, 202, { stopping: true, stopApps });
    deps.shutdown({ stopApps });
  });
}
