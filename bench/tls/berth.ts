/**
 * berth's proxy terminating TLS exactly as the daemon runs it: its own process from dist/ with an HTTPS
 * listener, fed the route table and the certificate set over its Unix socket. Only those two are ours
 * (one app, one target, one certificate); the daemon would send the same shapes.
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CertificateSet } from '../../src/dataplane/route-table.ts';
import { LONG_RUNNING_NODE_FLAGS } from '../../src/lib/node-flags.ts';
import { loadOrCreateKey } from '../../src/secrets/sealer.ts';
import { unixRequest } from '../../src/lib/unix-http.ts';
import { freePort, spawnGroup, waitFor, waitForPort, type Child } from '../lib/procs.ts';
import { benchTable } from '../proxy/targets/berth.ts';
import { UPSTREAM_IDLE, type TlsTarget, type TlsTargetContext } from './target.ts';

// As bin/berth runs it after `npm ci`: dist/, the sources with their types stripped ahead of time.
const ENTRY = fileURLToPath(new URL('../../dist/proxy/main.js', import.meta.url));

export interface BerthTls extends TlsTarget {
  socket: string;
  child: Child;
}

export const benchCertificates = (ctx: TlsTargetContext): CertificateSet => ({
  generation: 1,
  certificates: [{ id: 'crt_bench', hosts: [ctx.cert.host], certPem: ctx.cert.chainPem, keyPem: ctx.cert.keyPem, notAfter: ctx.cert.notAfter }],
});

/**
 * Starts one proxy process. `name` keeps the files of a second one (the profiled run) apart;
 * `nodeFlags` go before the entry point (`--cpu-prof …`).
 */
export async function startBerthTls(ctx: TlsTargetContext, name = 'berth', nodeFlags: string[] = []): Promise<BerthTls> {
  const [http, https] = [await freePort(), await freePort()];
  const socket = join(ctx.dir, `${name}-proxy.sock`);
  const log = join(ctx.dir, `${name}-proxy.log`);
  // The proxy saves its certificate set with the keys sealed, as the daemon's data directory would have it.
  const sealingKey = join(ctx.dir, 'secret.key');
  loadOrCreateKey(sealingKey);
  const args = [
    ...LONG_RUNNING_NODE_FLAGS,
    ...nodeFlags,
    ENTRY,
    '--listen',
    `127.0.0.1:${http}`,
    '--https',
    `127.0.0.1:${https}`,
    '--socket',
    socket,
    '--state',
    join(ctx.dir, `${name}-routes.json`),
    '--certs',
    join(ctx.dir, `${name}-certificates.json`),
    '--sealing-key',
    sealingKey,
  ];
  const child = spawnGroup(`${name} proxy`, ctx.node, args, { logFile: log, env: { ...process.env, BERTH_COMPONENT: 'proxy' } });
  ctx.cleanup.add(`stop ${name} proxy`, () => child.stop());
  await waitForPort(child, https, log);
  await waitFor(`${name} proxy control socket`, async () => {
    try {
      return (await unixRequest(socket, 'GET', '/info', undefined, 1000)).status === 200 ? true : undefined;
    } catch {
      return undefined;
    }
  }, 10_000);
  const routes = await unixRequest<unknown>(socket, 'PUT', '/routes', benchTable(ctx.cert.host, ctx.upstreamPort));
  if (routes.status !== 200) throw new Error(`berth proxy refused the route table: ${routes.status} ${JSON.stringify(routes.body)}`);
  const certs = await unixRequest<unknown>(socket, 'PUT', '/certificates', benchCertificates(ctx));
  if (certs.status !== 200) throw new Error(`berth proxy refused the certificate set: ${certs.status} ${JSON.stringify(certs.body)}`);
  return {
    key: 'berth',
    label: "berth's proxy",
    port: https,
    pid: child.pid,
    socket,
    child,
    setup: `\`node ${LONG_RUNNING_NODE_FLAGS.join(' ')} dist/proxy/main.js --listen … --https … --socket … --state … --certs … --sealing-key …\`, route table and certificate set PUT over the Unix socket (one app, one target, one certificate), its own TLS settings (src/proxy/tls/policy.ts: TLS 1.2 and 1.3, its suites and curves in its order, tickets and a session cache; ALPN h2, then http/1.1), upstream pool of ${UPSTREAM_IDLE} idle keep-alive connections per target, all features on (stats, latency histograms, X-Forwarded-*)`,
  };
}
