/**
 * berth's proxy exactly as the daemon runs it: its own process, fed a route table over its Unix socket.
 * Only the route table is ours (one app, one target); the daemon would send the same shape. Four
 * variants, measured in the same run: `bare` (no status or latency counting: the reference), `metrics`
 * (as the daemon ran it before the access log: counters per target and release), `log` (what the daemon
 * runs now: counters and the access log; X-Request-ID is in all three, berth cannot turn it off), and
 * `split` (`metrics` with a canary split: `splitTable`).
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

/**
 * A canary split 90/10 (sticky cookie) of two instances of the same upstream. wrk sends no cookie, so each
 * request takes its address's bucket (127.0.0.1 falls on the canary at 10 %) and each answer carries a
 * Set-Cookie, its head rebuilt: the dearest case per request (a returning client's cookie is only read).
 */
export const splitTable = (host: string, upstreamPort: number): RouteTable => {
  const table = benchTable(host, upstreamPort);
  const app = table.apps.bench;
  app.targets.push({ id: 'ins_canary', release: 'rel_canary', address: `127.0.0.1:${upstreamPort}`, weight: 1, state: 'active' });
  app.split = { release: 'rel_canary', percent: 10, sticky: 'cookie' };
  return table;
};

export type BerthVariant = 'bare' | 'metrics' | 'log' | 'split';

const VARIANTS: Record<BerthVariant, { key: Target['key']; label: string; flags: (dir: string) => string[]; what: string; table?: typeof benchTable }> = {
  bare: { key: 'berth-bare', label: "berth's proxy, no metrics", flags: () => ['--stats', 'off'], what: 'status and latency not counted (`--stats off`), no access log' },
  metrics: { key: 'berth', label: "berth's proxy", flags: () => [], what: 'stats per target and per release (latency histograms), no access log' },
  log: {
    key: 'berth-log',
    label: "berth's proxy + access log",
    flags: (dir) => ['--access-log', join(dir, 'access-log')],
    what: 'stats, and the access log as the daemon writes it (`--access-log DIR`, 64 MB files)',
  },
  split: {
    key: 'berth-split',
    label: "berth's proxy, canary split 90/10 (cookie)",
    flags: () => [],
    what: 'stats as `berth\'s proxy`, and a canary split 90/10 with sticky `cookie` over two instances of the upstream; wrk sends no cookie, so every answer gets a Set-Cookie (the head rebuilt): the dearest case',
    table: splitTable,
  },
};

export async function startBerth(ctx: TargetContext, variant: BerthVariant = 'metrics'): Promise<Target & { socket: string }> {
  const { key, label, flags, what, table } = VARIANTS[variant];
  const port = await freePort();
  const socket = join(ctx.dir, `${key}.sock`);
  const log = join(ctx.dir, `${key}.log`);
  const args = [...LONG_RUNNING_NODE_FLAGS, ENTRY, '--listen', `127.0.0.1:${port}`, '--socket', socket, '--state', join(ctx.dir, `${key}-routes.json`), ...flags(ctx.dir)];
  const child = spawnGroup(label, ctx.node, args, { logFile: log, env: { ...process.env, BERTH_COMPONENT: 'proxy' } });
  ctx.cleanup.add(`stop ${label}`, () => child.stop());
  await waitForPort(child, port, log);
  await waitFor(`${label} control socket`, async () => {
    try {
      return (await unixRequest(socket, 'GET', '/info', undefined, 1000)).status === 200 ? true : undefined;
    } catch {
      return undefined;
    }
  }, 10_000);
  const reply = await unixRequest<{ generation?: number }>(socket, 'PUT', '/routes', (table ?? benchTable)(ctx.host, ctx.upstreamPort));
  if (reply.status !== 200) throw new Error(`berth proxy refused the route table: ${reply.status} ${JSON.stringify(reply.body)}`);
  return {
    key,
    label,
    port,
    pid: child.pid,
    socket,
    setup: `\`${['node --max-semi-space-size=2 dist/proxy/main.js --listen … --socket … --state …', ...flags('DIR')].join(' ')}\`, route table PUT over the Unix socket (one app, ${table ? 'two targets' : 'one target'}); ${what}; X-Forwarded-* and X-Request-ID`,
  };
}
