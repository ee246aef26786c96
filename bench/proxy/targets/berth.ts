/**
 * berth's proxy exactly as the daemon runs it: its own process, fed a route table over its Unix socket.
 * Only the route table is ours (one app, one target); the daemon would send the same shape.
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LONG_RUNNING_NODE_FLAGS } from '../../../src/lib/node-flags.ts';
import type { RouteTable } from '../../../src/dataplane/route-table.ts';
import { unixRequest } from '../../../src/lib/unix-http.ts';
import { freePort, spawnGroup, waitFor, waitForPort } from '../../lib/procs.ts';
import type { Target, TargetContext } from './target.ts';

// As bin/berth runs it after `npm ci`: dist/, the sources with their types stripped ahead of time.
const ENTRY = fileURLToPath(new URL('../../../dist/proxy/main.js', import.meta.url));

export const benchTable = (host: string, upstreamPort: number): RouteTable => ({
  generation: 1,
  apps: {
    bench: {
      hosts: [host],
      drainTimeoutMs: 10_000,
      targets: [{ id: 'ins_bench', release: 'rel_bench', address: `127.0.0.1:${upstreamPort}`, weight: 1, state: 'active' }],
    },
  },
});

export async function startBerth(ctx: TargetContext): Promise<Target & { socket: string }> {
  const port = await freePort();
  const socket = join(ctx.dir, 'proxy.sock');
  const log = join(ctx.dir, 'berth-proxy.log');
  const args = [...LONG_RUNNING_NODE_FLAGS, ENTRY, '--listen', `127.0.0.1:${port}`, '--socket', socket, '--state', join(ctx.dir, 'routes.json')];
  const child = spawnGroup('berth proxy', ctx.node, args, { logFile: log, env: { ...process.env, BERTH_COMPONENT: 'proxy' } });
  ctx.cleanup.add('stop berth proxy', () => child.stop());
  await waitForPort(child, port, log);
  await waitFor('berth proxy control socket', async () => {
    try {
      return (await unixRequest(socket, 'GET', '/info', undefined, 1000)).status === 200 ? true : undefined;
    } catch {
      return undefined;
    }
  }, 10_000);
  const reply = await unixRequest<{ generation?: number }>(socket, 'PUT', '/routes', benchTable(ctx.host, ctx.upstreamPort));
  if (reply.status !== 200) throw new Error(`berth proxy refused the route table: ${reply.status} ${JSON.stringify(reply.body)}`);
  return {
    key: 'berth',
    label: "berth's proxy",
    port,
    pid: child.pid,
    socket,
    setup: '`node --max-semi-space-size=2 dist/proxy/main.js --listen … --socket … --state …`, route table PUT over the Unix socket (one app, one target), all features on (stats, latency histograms, X-Forwarded-*)',
  };
}
