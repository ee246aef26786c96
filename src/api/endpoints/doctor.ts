import { statfsSync } from 'node:fs';
import { daemonUid, isolationWarning } from '../../runtime/process/isolation.ts';
import type { ApiDeps } from '../deps.ts';
import { operations } from '../operations.ts';
import { pathRedactor } from '../redact-paths.ts';
import { answer } from '../responses.ts';
import type { Router } from '../router.ts';

/** GET /v1/doctor: which runtime berth chose and why, what it does not protect against, versions, the proxy, disk space. */
export function doctorRoutes(router: Router, deps: ApiDeps): void {
  const redactPaths = pathRedactor(deps.config.dataDir);
  router.on(operations.doctor, async ({ res }) => {
    const { ctx, config } = deps;
    const disk = statfsSync(config.dataDir);
    // The proxy's error names its socket under the data directory: shown as DATA/run/..., like other errors.
    const proxy = await ctx.dataplane.stats().catch((error: Error) => ({ error: redactPaths(error.message) }));
    const notIsolated = isolationWarning({ driver: ctx.driver.name, uid: daemonUid() });
    answer(res, 'doctor', 200, {
      version: deps.version,
      node: process.version,
      runtime: ctx.runtime ?? { driver: ctx.driver.name, reason: 'set by whoever built this server' },
      dataDir: config.dataDir,
      disk: { freeBytes: disk.bavail * disk.bsize, totalBytes: disk.blocks * disk.bsize },
      proxy: 'error' in proxy ? proxy : { pid: proxy.pid, version: proxy.version, address: proxy.address, generation: proxy.generation, connections: proxy.connections },
      apps: ctx.store.apps.list().length,
      warnings: notIsolated ? [notIsolated] : [],
    });
  });
}
