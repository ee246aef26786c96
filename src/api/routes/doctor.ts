import { statfsSync } from 'node:fs';
import type { ApiDeps } from '../deps.ts';
import { sendJson } from '../http.ts';
import type { Router } from '../router.ts';

/** GET /v1/doctor: which runtime berth chose and why, versions, the proxy, disk space. */
export function doctorRoutes(router: Router, deps: ApiDeps): void {
  router.on('GET', '/v1/doctor', async (_req, res) => {
    const { ctx, config } = deps;
    const disk = statfsSync(config.dataDir);
    const proxy = await ctx.dataplane.stats().catch((error: Error) => ({ error: error.message }));
    sendJson(res, 200, {
      version: deps.version,
      node: process.version,
      runtime: ctx.runtime ?? { driver: ctx.driver.name, reason: 'set by whoever built this server' },
      dataDir: config.dataDir,
      disk: { freeBytes: disk.bavail * disk.bsize, totalBytes: disk.blocks * disk.bsize },
      proxy: 'error' in proxy ? proxy : { pid: proxy.pid, version: proxy.version, address: proxy.address, generation: proxy.generation, connections: proxy.connections },
      apps: ctx.store.apps.list().length,
    });
  });
}
