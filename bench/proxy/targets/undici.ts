/** The bare node:http + undici proxy of bench/proxy/undici-proxy.ts. */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, spawnGroup, waitForPort } from '../../lib/procs.ts';
import type { Target, TargetContext } from './target.ts';

const ENTRY = fileURLToPath(new URL('../undici-proxy.ts', import.meta.url));

export async function startUndici(ctx: TargetContext): Promise<Target> {
  const port = await freePort();
  const log = join(ctx.dir, 'undici.log');
  const child = spawnGroup('undici proxy', ctx.node, [ENTRY, String(port), `127.0.0.1:${ctx.upstreamPort}`, ctx.host], { logFile: log });
  ctx.cleanup.add('stop undici proxy', () => child.stop());
  await waitForPort(child, port, log);
  return {
    key: 'undici',
    label: 'bare undici proxy',
    port,
    pid: child.pid,
    setup: '`bench/proxy/undici-proxy.ts`: node:http server, undici `Pool.dispatch`, hop-by-hop headers dropped, X-Forwarded-For/Proto set, no other feature',
  };
}
