/**
 * A real ACME CA for tests: Debian's `pebble` (Let's Encrypt's test server) with `pebble-challtestsrv` as
 * its DNS, both on loopback, one of each per test file, on ports picked free so files run in parallel.
 * challtestsrv answers 127.0.0.1 for every name (its management API can make one fail); pebble validates
 * HTTP-01 by connecting to `httpPort` at that address, so pointing it at berth's HTTP listener makes pebble
 * really check berth's answer. pebble's own TLS certificate is made here with openssl.
 *
 * Missing pebble skips the tests that need it, saying so; with BERTH_REQUIRE_TOOLS=1 (CI) it fails them.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { request as httpRequest } from 'node:http';
import { createServer } from 'node:net';
import { createSocket } from 'node:dgram';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { toolSuite } from './tools.ts';
import { waitFor } from './http.ts';

export interface Pebble {
  /** `https://127.0.0.1:<port>/dir`: berth's --acme-directory. */
  directoryUrl: string;
  /** The file with the certificate pebble's own listener uses (self-signed): berth's --acme-ca. */
  caFile: string;
  /** The root that issues pebble's certificates (PEM): what a client checking berth's HTTPS trusts. */
  issuingRoot: string;
  /** challtestsrv's DNS: berth's --acme-resolver, so the pre-flight sees what pebble sees. */
  dns: { host: string; port: number };
  /** Makes challtestsrv answer SERVFAIL for `host` (it no longer resolves, for pebble or berth). */
  servfail(host: string): Promise<void>;
  /** pebble's output so far. */
  log(): string;
  /** New orders pebble has received so far (for "no order reached the CA"). */
  orders(): number;
  close(): Promise<void>;
}

/** A TCP port free now (and its UDP twin, for DNS), picked by the kernel. */
export async function freePort(udpToo = false): Promise<number> {
  for (let tries = 0; tries < 20; tries++) {
    const port = await new Promise<number>((resolve, reject) => {
      const server = createServer();
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        const { port } = server.address() as { port: number };
        server.close(() => resolve(port));
      });
    });
    if (!udpToo) return port;
    const free = await new Promise<boolean>((resolve) => {
      const socket = createSocket('udp4');
      socket.once('error', () => resolve(false));
      socket.bind(port, '127.0.0.1', () => socket.close(() => resolve(true)));
    });
    if (free) return port;
  }
  throw new Error('no free port pair found');
}

/** pebble and challtestsrv, or why the tests that need them skip. */
export function pebbleTools(): { skip: false } | { skip: string } {
  const pebble = toolSuite('pebble', 'pebble');
  if (pebble.skip) return { skip: pebble.skip };
  const challtestsrv = toolSuite('pebble-challtestsrv', 'pebble');
  return challtestsrv.skip ? { skip: challtestsrv.skip } : { skip: false };
}

export async function startPebble(options: { httpPort: number; validitySeconds?: number }): Promise<Pebble> {
  const dir = mkdtempSync(join(tmpdir(), 'berth-pebble-'));
  const children: ChildProcess[] = [];
  const output = { pebble: '', challtestsrv: '' };
  const keep = (name: keyof typeof output) => (chunk: Buffer) => (output[name] = (output[name] + chunk.toString()).slice(-200_000));
  try {
    const { certPem: caPem, keyPem } = selfSignedLoopback();
    writeFileSync(join(dir, 'cert.pem'), caPem);
    writeFileSync(join(dir, 'key.pem'), keyPem);
    const [acme, management, tls, dnsPort, dnsManagement] = [await freePort(), await freePort(), await freePort(), await freePort(true), await freePort()];
    writeFileSync(join(dir, 'pebble.json'), JSON.stringify({
      pebble: {
        listenAddress: `127.0.0.1:${acme}`,
        managementListenAddress: `127.0.0.1:${management}`,
        certificate: join(dir, 'cert.pem'),
        privateKey: join(dir, 'key.pem'),
        httpPort: options.httpPort,
        tlsPort: tls,
        ocspResponderURL: '',
        externalAccountBindingRequired: false,
        ...(options.validitySeconds ? { certificateValidityPeriod: options.validitySeconds } : {}),
      },
    }));
    const challtestsrv = spawn('pebble-challtestsrv', ['-defaultIPv4', '127.0.0.1', '-defaultIPv6', '', '-dns01', `127.0.0.1:${dnsPort}`, '-http01', '', '-https01', '', '-tlsalpn01', '', '-management', `127.0.0.1:${dnsManagement}`], { stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(challtestsrv);
    challtestsrv.stdout!.on('data', keep('challtestsrv'));
    challtestsrv.stderr!.on('data', keep('challtestsrv'));
    const pebble = spawn('pebble', ['-config', join(dir, 'pebble.json'), '-dnsserver', `127.0.0.1:${dnsPort}`], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, PEBBLE_VA_NOSLEEP: '1' } });
    children.push(pebble);
    pebble.stdout!.on('data', keep('pebble'));
    pebble.stderr!.on('data', keep('pebble'));
    const alive = () => {
      for (const child of children) if (child.exitCode !== null) throw new Error(`${child.spawnargs[0]} exited with ${child.exitCode}:\n${output.pebble}\n${output.challtestsrv}`);
    };
    const management$ = (method: string, path: string, body?: unknown) => call(httpRequest, { host: '127.0.0.1', port: dnsManagement, method, path }, body);
    await waitFor('pebble-challtestsrv to answer', async () => (alive(), (await management$('POST', '/clear-request-history', { host: 'x', type: 'http' }).catch(() => undefined)) !== undefined), 10_000, 50);
    const issuing = await waitFor('pebble to answer', async () => {
      alive();
      const dirAnswer = await call(httpsRequest, { host: '127.0.0.1', port: acme, path: '/dir', ca: caPem }).catch(() => undefined);
      if (dirAnswer?.status !== 200) return undefined;
      const root = await call(httpsRequest, { host: '127.0.0.1', port: management, path: '/roots/0', ca: caPem }).catch(() => undefined);
      return root?.status === 200 ? root.body : undefined;
    }, 15_000, 50);
    return {
      directoryUrl: `https://127.0.0.1:${acme}/dir`,
      caFile: join(dir, 'cert.pem'),
      issuingRoot: issuing,
      dns: { host: '127.0.0.1', port: dnsPort },
      async servfail(host) {
        const reply = await management$('POST', '/set-servfail', { host: host.endsWith('.') ? host : `${host}.` });
        if (reply.status !== 200) throw new Error(`challtestsrv refused set-servfail: ${reply.status} ${reply.body}`);
      },
      log: () => output.pebble,
      orders: () => output.pebble.split('\n').filter((line) => /Added order /.test(line)).length,
      close: () => stopAll(children, dir),
    };
  } catch (error) {
    await stopAll(children, dir);
    throw error;
  }
}

/** A self-signed certificate for `localhost` and 127.0.0.1, made by openssl: a loopback HTTPS server's own. */
export function selfSignedLoopback(): { certPem: string; keyPem: string } {
  const dir = mkdtempSync(join(tmpdir(), 'berth-selfsigned-'));
  try {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '2', '-subj', '/CN=localhost',
      '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: 'ignore' });
    return { certPem: readFileSync(join(dir, 'cert.pem'), 'utf8'), keyPem: readFileSync(join(dir, 'key.pem'), 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function stopAll(children: ChildProcess[], dir: string): Promise<void> {
  await Promise.all(
    children.map(async (child) => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(timer);
    }),
  );
  rmSync(dir, { recursive: true, force: true });
}

/** One bounded request; the answer's status and body. */
function call(make: typeof httpRequest | typeof httpsRequest, options: Record<string, unknown>, body?: unknown): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = (make as typeof httpsRequest)({ ...options, timeout: 5000, agent: false, headers: payload ? { 'content-type': 'application/json' } : {} }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end(payload);
  });
}
