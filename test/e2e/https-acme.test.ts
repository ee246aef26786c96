/**
 * HTTPS end to end, with a real ACME CA: pebble validates the HTTP-01 challenge against berth's own HTTP
 * listener (its DNS, pebble-challtestsrv, answers 127.0.0.1 for every name), issues short-lived
 * certificates (60 s, so renewal happens during the test), and clients that check certificates against
 * pebble's issuing root make the requests. One pebble and one berth (process runtime) for the file.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { request as httpsRequest } from 'node:https';
import { connect as tlsConnect, type PeerCertificate } from 'node:tls';
import { appCopy, TestBerth } from '../support/berth.ts';
import { rawExchange, request, waitFor } from '../support/http.ts';
import { failures, startLoad } from '../support/load.ts';
import { freePort, pebbleTools, startPebble, type Pebble } from '../support/pebble.ts';

const VALIDITY_S = 60;

/** The app: says which release answered and what the proxy told it about the request. */
const SERVER = `import { createServer } from 'node:http';
createServer((req, res) => {
  if (req.url === '/health') return void res.writeHead(200).end('ok');
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ release: process.env.BERTH_RELEASE, proto: req.headers['x-forwarded-proto'] ?? null, host: req.headers.host, path: req.url }));
}).listen(Number(process.env.PORT), '127.0.0.1');
`;
const manifest = (domains: string[], extra = '') => `health:\n  path: /health\n  interval: 200ms\ndomains: [${domains.join(', ')}]\n${extra}`;

/** Rethrows a failed request's error with what the request was. */
const failedAt = (what: string) => (error: Error): never => {
  throw new Error(`${what}: ${error.message}`, { cause: error });
};

interface Event {
  seq: number;
  type: string;
  data?: { domain?: string; code?: string; serial?: string };
}

describe('HTTPS with certificates from ACME', { skip: pebbleTools().skip || false }, () => {
  let pebble: Pebble;
  let berth: TestBerth;

  before(async () => {
    const httpPort = await freePort();
    pebble = await startPebble({ httpPort, validitySeconds: VALIDITY_S });
    berth = await TestBerth.start({ httpPort, acme: { directory: pebble.directoryUrl, caFile: pebble.caFile, resolver: pebble.dns } });
  });
  after(async () => {
    await berth?.close();
    await pebble?.close();
  });

  const events = async (app: string): Promise<Event[]> => (await berth.api('GET', `/v1/apps/${app}/events?limit=1000`)).body.events;
  const certEvents = async (app: string, domain: string, afterSeq = 0) =>
    (await events(app)).filter((e) => e.type.startsWith('cert.') && e.data?.domain === domain && e.seq > afterSeq);
  /** The certificate the HTTPS listener serves for `servername`, on a fresh connection, checked against pebble's root. */
  const served = (servername: string) =>
    new Promise<PeerCertificate>((resolve, reject) => {
      const socket = tlsConnect({ host: '127.0.0.1', port: berth.httpsPort, servername, ca: pebble.issuingRoot, timeout: 5000 }, () => {
        const cert = socket.getPeerCertificate();
        socket.end();
        resolve(cert);
      });
      socket.on('timeout', () => socket.destroy(new Error('TLS handshake timed out')));
      socket.on('error', reject);
    });
  const overHttps = (servername: string, path = '/') =>
    new Promise<{ status: number; headers: Record<string, unknown>; body: string }>((resolve, reject) => {
      const req = httpsRequest({ host: '127.0.0.1', port: berth.httpsPort, path, servername, headers: { host: servername }, ca: pebble.issuingRoot, agent: false, timeout: 10_000 }, (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (d: string) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
      });
      req.on('timeout', () => req.destroy(new Error('request timed out')));
      req.on('error', reject);
      req.end();
    });

  test('a deploy that brings app.test gets a certificate pebble issued after validating berth\'s answer; HTTPS serves it, HTTP redirects', { timeout: 120_000 }, async () => {
    assert.ok(berth.httpsPort > 0, 'the daemon reports its HTTPS listener');
    const orders = pebble.orders();
    await berth.deploy('shop', appCopy('versioned', { 'berth.yaml': manifest(['app.test']), 'server.js': SERVER }));
    await waitFor('cert.issued for app.test', async () => (await certEvents('shop', 'app.test')).some((e) => e.type === 'cert.issued'), 60_000, 200);
    assert.deepEqual((await certEvents('shop', 'app.test')).map((e) => e.type), ['cert.requested', 'cert.issued']);
    assert.ok(pebble.orders() > orders, 'the order went to pebble');

    const cert = await waitFor('the proxy to serve it', () => served('app.test').catch(() => undefined), 15_000, 200);
    assert.equal(cert.subjectaltname, 'DNS:app.test');
    assert.match(String(cert.issuer.CN), /Pebble Intermediate CA/);
    const reply = await overHttps('app.test', '/hello').catch(failedAt('GET https://app.test/hello'));
    assert.equal(reply.status, 200);
    assert.deepEqual(JSON.parse(reply.body), { release: 'v1', proto: 'https', host: 'app.test', path: '/hello' });

    // Plain HTTP to a host with a certificate: 308 to https://, the challenge path excepted.
    const redirect = await request({ port: berth.httpPort, host: 'app.test', path: '/a?b=1' }).catch(failedAt('GET http://app.test/a?b=1'));
    assert.equal(redirect.status, 308);
    assert.equal(redirect.headers.location, `https://app.test:${berth.httpsPort}/a?b=1`);
    const challenge = await rawExchange(berth.httpPort, 'GET /.well-known/acme-challenge/bm90LWEtdG9rZW4tdGhhdC1leGlzdHM HTTP/1.1\r\nHost: app.test\r\nConnection: close\r\n\r\n');
    assert.match(challenge, /^HTTP\/1\.1 404 /, 'an unknown token: not found, and never redirected');
    // The base-domain host has no certificate: it stays on HTTP.
    const base = await request({ port: berth.httpPort, host: 'shop.localhost' }).catch(failedAt('GET http://shop.localhost/'));
    assert.equal(base.status, 200);
    assert.equal(JSON.parse(base.body).proto, 'http');

    const app = (await berth.api('GET', '/v1/apps/shop')).body;
    assert.deepEqual(app.urls, [`http://shop.localhost:${berth.httpPort}`, `https://app.test:${berth.httpsPort}`]);
  });

  test('renewal: a new certificate replaces it before expiry while HTTPS load sees 0 failed requests', { timeout: 120_000 }, async (t) => {
    const first = await served('app.test');
    const expires = Date.parse(first.valid_to);
    const load = startLoad({ port: berth.httpsPort, host: 'app.test', concurrency: 4, maxDurationMs: 90_000, maxRequests: 200_000, tls: { servername: 'app.test', ca: pebble.issuingRoot } });
    let renewed: PeerCertificate | undefined;
    let seenAt = 0;
    const handshakeErrors: string[] = [];
    try {
      renewed = await waitFor(
        'a renewed certificate on new connections',
        async () => {
          try {
            const now = await served('app.test');
            return now.serialNumber !== first.serialNumber ? now : undefined;
          } catch (error) {
            handshakeErrors.push((error as Error).message);
            return undefined;
          }
        },
        (VALIDITY_S + 10) * 1000,
        250,
      );
      seenAt = Date.now();
      // Keep the load going across the switch for a moment.
      await new Promise((r) => setTimeout(r, 1500));
    } finally {
      await load.stop();
    }
    assert.ok(seenAt < expires, `replaced at ${new Date(seenAt).toISOString()}, after the old certificate expired (${first.valid_to})`);
    t.diagnostic(`${load.samples.length} HTTPS requests across the renewal; old certificate valid until ${first.valid_to}, new one served from ${new Date(seenAt).toISOString()} (valid ${renewed.valid_from} to ${renewed.valid_to})`);
    assert.ok(load.samples.length > 50, `only ${load.samples.length} requests`);
    assert.deepEqual(failures(load.samples), []);
    assert.deepEqual(handshakeErrors, [], 'every fresh handshake succeeded');
    const types = (await certEvents('shop', 'app.test')).map((e) => e.type);
    assert.ok(types.includes('cert.renewed'), types.join(', '));
    assert.ok(!types.includes('cert.failed'), types.join(', '));
  });

  test('a daemon restart: HTTPS keeps serving while it is down, and the certificate is not issued again', { timeout: 120_000 }, async () => {
    const before = await served('app.test');
    const lastSeq = Math.max(0, ...(await events('shop')).map((e) => e.seq));
    await berth.kill();
    const whileDown = await overHttps('app.test');
    assert.equal(whileDown.status, 200, 'the proxy serves HTTPS with the daemon down');
    assert.equal((await served('app.test')).serialNumber, before.serialNumber);
    await berth.startDaemon();
    // Two passes of the manager (every 3 s) after the start.
    await new Promise((r) => setTimeout(r, 7000));
    const since = await certEvents('shop', 'app.test', lastSeq);
    const renewAt = Date.parse(before.valid_from) + ((Date.parse(before.valid_to) - Date.parse(before.valid_from)) * 2) / 3;
    if (Date.now() < renewAt) assert.deepEqual(since.map((e) => e.type), [], 'nothing was requested again');
    else assert.ok(since.every((e) => e.type !== 'cert.issued'), 'only a renewal that came due');
    assert.equal((await overHttps('app.test')).status, 200);
  });

  test('a domain that does not resolve: cert.failed ACME_DNS, no order reaches pebble, the app keeps being served over HTTP', { timeout: 120_000 }, async () => {
    await pebble.servfail('nowhere.test');
    const orders = pebble.orders();
    const lastSeq = Math.max(0, ...(await events('shop')).map((e) => e.seq));
    await berth.deploy('lost', appCopy('versioned', { 'berth.yaml': manifest(['nowhere.test']), 'server.js': SERVER }));
    const failed = await waitFor('cert.failed for nowhere.test', async () => (await certEvents('lost', 'nowhere.test')).find((e) => e.type === 'cert.failed'), 30_000, 200);
    assert.equal(failed.data?.code, 'ACME_DNS');
    // app.test's renewals (every ~40 s) are the only orders pebble may have received meanwhile: once none is under way, count them.
    const settled = await waitFor(
      'app.test\'s renewals to settle',
      async () => {
        const seen = await certEvents('shop', 'app.test', lastSeq);
        return seen.filter((e) => e.type === 'cert.requested').length === seen.filter((e) => e.type !== 'cert.requested').length ? seen : undefined;
      },
      30_000,
      100,
    );
    assert.equal(pebble.orders() - orders, settled.filter((e) => e.type === 'cert.renewed').length, 'no order for nowhere.test reached pebble');
    const plain = await request({ port: berth.httpPort, host: 'nowhere.test' });
    assert.equal(plain.status, 200, 'served over HTTP, not redirected');
    assert.equal(JSON.parse(plain.body).proto, 'http');
    const app = (await berth.api('GET', '/v1/apps/lost')).body;
    assert.deepEqual(app.urls, [`http://lost.localhost:${berth.httpPort}`, `http://nowhere.test:${berth.httpPort}`]);
  });
});
