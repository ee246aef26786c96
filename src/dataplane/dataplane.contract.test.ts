/**
 * The data-plane port's contract, run against both implementations: the proxy in this process and
 * the proxy as its own process (spawned for real, talked to over its Unix socket).
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { Agent } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from '../../test/support/http.ts';
import { makeTestCa, tlsCertificate } from '../../test/support/tls-certs.ts';
import { silentLogger } from '../lib/log.ts';
import { unixRequest } from '../lib/unix-http.ts';
import { loadOrCreateKey } from '../secrets/sealer.ts';
import { startUpstream, tableFor } from '../proxy/upstream.test-support.ts';
import { createInProcessDataPlane } from '../proxy/in-process.ts';
import { handshake, tlsRequest } from '../proxy/tls/tls.test-support.ts';
import { ACCESS_LOG_CURRENT, parseAccessLine } from './access-log.ts';
import { createProxyProcess, type AccessLogSettings } from './proxy-process.ts';
import { InvalidCertificateSetError, StaleRouteTableError, type DataPlane } from './route-table.ts';

const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

const LOOPBACK_ANY_PORT = { host: '127.0.0.1', port: 0 };

function proxyProcess(
  options: { dir?: string; https?: { host: string; port: number } | null; accessLog?: AccessLogSettings | null } = {},
): ReturnType<typeof createProxyProcess> & { runDir: string } {
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'berth-dataplane-'));
  dirs.push(dir);
  const sealingKeyPath = join(dir, 'secret.key');
  loadOrCreateKey(sealingKeyPath);
  const dataplane = createProxyProcess({
    runDir: join(dir, 'run'),
    logFile: join(dir, 'proxy.log'),
    listen: LOOPBACK_ANY_PORT,
    https: options.https === undefined ? LOOPBACK_ANY_PORT : options.https,
    sealingKeyPath,
    version: 'test',
    log: silentLogger,
    ownerId: 'contract-test',
    accessLog: options.accessLog ?? null,
  });
  return Object.assign(dataplane, { runDir: join(dir, 'run') });
}

const implementations: [string, (accessLog?: AccessLogSettings) => DataPlane][] = [
  ['in-process', (accessLog) => createInProcessDataPlane({ ...LOOPBACK_ANY_PORT, https: LOOPBACK_ANY_PORT, accessLog })],
  ['proxy process', (accessLog) => proxyProcess({ accessLog })],
];

const accessLogDir = (): AccessLogSettings => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-access-'));
  dirs.push(dir);
  return { dir: join(dir, 'access'), maxFileBytes: 1024 * 1024, keepDays: 14 };
};

const ca = makeTestCa();
const first = ca.issue(['app.localhost', 'www.app.localhost']);
const second = ca.issue(['app.localhost']);
const httpsPortOf = async (dataplane: DataPlane) => (await dataplane.stats()).httpsAddress!.port;

for (const [name, create] of implementations) {
  describe(`data plane contract: ${name}`, () => {
    test('routes by the table it was given, and refuses an older one without changing anything', async () => {
      const dataplane = create();
      const upstream = await startUpstream('up');
      try {
        const { port } = await dataplane.start();
        const table = tableFor('app', ['app.localhost'], [{ id: 'u1', address: upstream.address }]);
        await dataplane.apply(table);
        assert.equal((await request({ port, host: 'app.localhost' })).status, 200);

        const older = { ...tableFor('app', ['app.localhost'], []), generation: table.generation - 1 };
        const refused = await dataplane.apply(older).then(() => null, (error: unknown) => error);
        assert.ok(refused instanceof StaleRouteTableError, `refused with StaleRouteTableError, got ${refused}`);
        assert.equal(refused.current, table.generation, 'the error says which generation to count on from');
        assert.equal((await dataplane.stats()).generation, table.generation);
        assert.equal((await request({ port, host: 'app.localhost' })).status, 200, 'still routed by the newer table');
      } finally {
        await dataplane.stop();
        await upstream.close();
      }
    });

    test('serves a certificate set by SNI; refuses an older set and an invalid one, the set in use serving on', async () => {
      const dataplane = create();
      try {
        await dataplane.start();
        const port = await httpsPortOf(dataplane);
        await dataplane.applyCertificates({ generation: 5, certificates: [tlsCertificate('first', ['app.localhost', 'www.app.localhost'], first)] });
        const served = await handshake(port, { ca: ca.certPem, servername: 'www.app.localhost' });
        assert.ok(served.ok && served.fingerprint256 === first.fingerprint256, 'the certificate of the set, checked against the CA');
        assert.equal((await handshake(port, { ca: ca.certPem, servername: 'other.localhost' })).ok, false);

        const stale = await dataplane.applyCertificates({ generation: 4, certificates: [] }).then(() => null, (error: unknown) => error);
        assert.ok(stale instanceof StaleRouteTableError && stale.current === 5, `refused as stale, got ${stale}`);
        const mismatched = { generation: 6, certificates: [{ ...tlsCertificate('bad', ['app.localhost'], second), keyPem: first.keyPem }] };
        const invalid = await dataplane.applyCertificates(mismatched).then(() => null, (error: unknown) => error);
        assert.ok(invalid instanceof InvalidCertificateSetError, `refused as invalid, got ${invalid}`);
        assert.match(invalid.message, /certificates\[0\]\.keyPem is not the key of certificates\[0\]\.certPem/);
        assert.doesNotMatch(invalid.message, /PRIVATE KEY/, 'the key is never echoed');
        assert.equal((await dataplane.stats()).certificatesGeneration, 5);
        const still = await handshake(port, { ca: ca.certPem, servername: 'app.localhost' });
        assert.ok(still.ok && still.fingerprint256 === first.fingerprint256);
      } finally {
        await dataplane.stop();
      }
    });

    test('a replaced certificate goes to new connections; a keep-alive connection made before keeps working', async () => {
      const dataplane = create();
      const upstream = await startUpstream('up');
      const agent = new Agent({ keepAlive: true, maxSockets: 1 });
      try {
        await dataplane.start();
        const port = await httpsPortOf(dataplane);
        await dataplane.apply(tableFor('app', ['app.localhost'], [{ address: upstream.address }]));
        await dataplane.applyCertificates({ generation: 1, certificates: [tlsCertificate('first', ['app.localhost'], first)] });
        const before = await tlsRequest({ port, host: 'app.localhost', ca: ca.certPem, agent });
        assert.equal(before.fingerprint256, first.fingerprint256);

        await dataplane.applyCertificates({ generation: 2, certificates: [tlsCertificate('second', ['app.localhost'], second)] });
        const fresh = await tlsRequest({ port, host: 'app.localhost', ca: ca.certPem });
        assert.equal(fresh.status, 200);
        assert.equal(fresh.fingerprint256, second.fingerprint256, 'a new connection gets the new certificate');
        const kept = await tlsRequest({ port, host: 'app.localhost', ca: ca.certPem, agent });
        assert.equal(kept.status, 200);
        assert.equal(kept.fingerprint256, first.fingerprint256, 'the open connection was not dropped');
      } finally {
        agent.destroy();
        await dataplane.stop();
        await upstream.close();
      }
    });

    test('answers ACME challenges on HTTP; redirects a host with a certificate, not one without', async () => {
      const dataplane = create();
      const upstream = await startUpstream('up');
      try {
        const { port } = await dataplane.start();
        const httpsPort = await httpsPortOf(dataplane);
        await dataplane.apply(tableFor('app', ['app.localhost', 'bare.localhost'], [{ address: upstream.address }]));
        await dataplane.applyCertificates({ generation: 1, certificates: [tlsCertificate('first', ['app.localhost'], first)] });
        await dataplane.setChallenges({ token_1: 'token_1.thumbprint' });
        const challenge = await request({ port, host: 'nowhere.localhost', path: '/.well-known/acme-challenge/token_1' });
        assert.equal(challenge.status, 200);
        assert.equal(challenge.body, 'token_1.thumbprint');
        await assert.rejects(dataplane.setChallenges({ token_2: 'not the key authorization' }), /challenges\["token_2"\] must be the key authorization/);

        const redirected = await request({ port, host: 'app.localhost', path: '/x' });
        assert.equal(redirected.status, 308);
        assert.equal(redirected.headers.location, `https://app.localhost:${httpsPort}/x`);
        assert.equal((await request({ port, host: 'bare.localhost', path: '/x' })).status, 200);
        const { tls } = await dataplane.stats();
        assert.deepEqual([tls.challenges, tls.redirects], [1, 1]);
      } finally {
        await dataplane.stop();
        await upstream.close();
      }
    });

    test('counts per release, cumulative: a release keeps its numbers after its targets leave the table', async () => {
      const dataplane = create();
      const one = await startUpstream('one');
      const two = await startUpstream('two');
      try {
        const { port } = await dataplane.start();
        await dataplane.apply(tableFor('app', ['app.localhost'], [{ id: 'i1', release: 'r1', address: one.address }]));
        for (let i = 0; i < 3; i++) assert.equal((await request({ port, host: 'app.localhost' })).status, 200);
        await dataplane.apply(tableFor('app', ['app.localhost'], [{ id: 'i2', release: 'r2', address: two.address }]));
        assert.equal((await request({ port, host: 'app.localhost' })).status, 200);
        const { releases, targets } = await dataplane.stats();
        assert.equal(targets.i1, undefined, 'the removed target is gone from the targets');
        const byRelease = new Map(releases.map((r) => [r.release, r]));
        assert.deepEqual([byRelease.get('r1')?.requests, byRelease.get('r1')?.status['2xx'], byRelease.get('r2')?.requests], [3, 3, 1]);
        assert.equal(byRelease.get('r1')!.app, 'app');
        assert.equal(byRelease.get('r1')!.latency.counts.reduce((a, b) => a + b, 0), 3);
        assert.equal(byRelease.get('r2')!.inflight, 0);
      } finally {
        await dataplane.stop();
        await one.close();
        await two.close();
      }
    });

    test('chaos: a rule in the table fails its share of requests in the proxy, counted as their status', async () => {
      const dataplane = create();
      const upstream = await startUpstream('up');
      try {
        const { port } = await dataplane.start();
        const table = tableFor('app', ['app.localhost'], [{ id: 'c1', release: 'v2', address: upstream.address }]);
        table.apps.app.chaos = { mode: 'error', status: 503, ratio: 1, release: 'v2', until: Date.now() + 60_000 };
        await dataplane.apply(table);
        const reply = await request({ port, host: 'app.localhost' });
        assert.deepEqual([reply.status, reply.headers['x-berth-error']], [503, 'chaos']);
        assert.equal(upstream.requests.length, 0, 'never forwarded');
        assert.equal((await dataplane.stats()).targets.c1.status['5xx'], 1);
        await dataplane.apply(tableFor('app', ['app.localhost'], [{ id: 'c1', release: 'v2', address: upstream.address }]));
        assert.equal((await request({ port, host: 'app.localhost' })).status, 200, 'gone with the next table');
      } finally {
        await dataplane.stop();
        await upstream.close();
      }
    });

    test('writes the access log, one parseable line per request, flushed when it stops', async () => {
      const log = accessLogDir();
      const dataplane = create(log);
      const upstream = await startUpstream('up');
      try {
        const { port } = await dataplane.start();
        await dataplane.apply(tableFor('app', ['app.localhost'], [{ id: 'i1', release: 'r1', address: upstream.address }]));
        await request({ port, host: 'app.localhost', path: '/a?token=secret', headers: { 'x-request-id': 'client-id-1' } });
        await request({ port, host: 'nope.localhost', path: '/b' });
        assert.equal(upstream.requests[0].headers['x-request-id'], 'client-id-1');
        assert.equal((await dataplane.stats()).accessLog?.dir, log.dir);
      } finally {
        await dataplane.stop();
        await upstream.close();
      }
      const lines = readFileSync(join(log.dir, ACCESS_LOG_CURRENT), 'utf8').trim().split('\n').map(parseAccessLine);
      assert.deepEqual(
        lines.map((e) => e && [e.method, e.path, e.status, e.app, e.release, e.instance, e.host]),
        [
          ['GET', '/a', 200, 'app', 'r1', 'i1', 'app.localhost'],
          ['GET', '/b', 404, null, null, null, 'nope.localhost'],
        ],
      );
      assert.equal(lines[0]!.id, 'client-id-1');
    });
  });
}

test('the proxy process keeps its route table and certificates across its own restart, no key in clear on disk', async () => {
  const dataplane = proxyProcess();
  const upstream = await startUpstream('up');
  try {
    await dataplane.start();
    const httpsPort = await httpsPortOf(dataplane);
    const table = tableFor('app', ['app.localhost'], [{ id: 'u1', address: upstream.address }]);
    await dataplane.apply(table);
    await dataplane.applyCertificates({ generation: 7, certificates: [tlsCertificate('first', ['app.localhost'], first)] });

    const listed = await unixRequest<{ generation: number; certificates: unknown[] }>(dataplane.socketPath, 'GET', '/certificates');
    assert.deepEqual(listed.body, { generation: 7, certificates: [{ id: 'first', hosts: ['app.localhost'], notAfter: first.notAfter }] }, 'ids, hosts, expiry: no PEM');
    await dataplane.stop();

    const saved = readFileSync(join(dataplane.runDir, 'certs.json'), 'utf8');
    assert.equal(statSync(join(dataplane.runDir, 'certs.json')).mode & 0o777, 0o600);
    assert.doesNotMatch(saved, /PRIVATE KEY/, 'the key is sealed');
    assert.ok(!saved.includes(first.keyPem.split('\n')[1]), 'not a line of it in clear');

    const { port } = await dataplane.start();
    const stats = await dataplane.stats();
    assert.equal(stats.generation, table.generation);
    assert.equal(stats.certificatesGeneration, 7);
    assert.equal(stats.httpsAddress!.port, httpsPort, 'the TLS listener keeps its port');
    assert.equal((await request({ port, host: 'app.localhost' })).status, 308, 'HTTP redirects: the certificate is back');
    const reply = await tlsRequest({ port: httpsPort, host: 'app.localhost', ca: ca.certPem });
    assert.equal(reply.status, 200);
    assert.equal(reply.fingerprint256, first.fingerprint256);
  } finally {
    await dataplane.stop();
    await upstream.close();
  }
});

test('the proxy process refuses a chaos rule out of range, and keeps a valid one across its own restart', async () => {
  const dataplane = proxyProcess();
  const upstream = await startUpstream('up');
  try {
    await dataplane.start();
    const bad = tableFor('app', ['app.localhost'], [{ id: 'u1', address: upstream.address }]);
    bad.apps.app.chaos = { mode: 'slow', latencyMs: 3_600_000, release: null, until: Date.now() + 60_000 };
    await assert.rejects(dataplane.apply(bad), /chaos\.latencyMs/);
    const table = tableFor('app', ['app.localhost'], [{ id: 'u1', address: upstream.address }]);
    table.apps.app.chaos = { mode: 'error', status: 429, ratio: 1, release: null, until: Date.now() + 60_000 };
    await dataplane.apply(table);
    await dataplane.stop();
    const { port } = await dataplane.start();
    assert.equal((await request({ port, host: 'app.localhost' })).status, 429, 'the saved table brought the chaos back');
  } finally {
    await dataplane.stop();
    await upstream.close();
  }
});

test('a restarted daemon adopts the running proxy only when its HTTPS listener is the one asked for', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-dataplane-'));
  const running = proxyProcess({ dir });
  try {
    await running.start();
    const first = (await running.info())!;
    assert.ok(first.httpsAddress, 'a TLS listener');
    const adopter = proxyProcess({ dir });
    await adopter.start();
    assert.equal((await adopter.info())!.pid, first.pid, 'port 0 adopts the port it got');
    const plain = proxyProcess({ dir, https: null });
    await plain.start();
    const replaced = (await plain.info())!;
    assert.notEqual(replaced.pid, first.pid, 'HTTPS turned off: replaced');
    assert.equal(replaced.httpsAddress, null);
    const again = proxyProcess({ dir });
    await again.start();
    assert.ok((await again.info())!.httpsAddress, 'HTTPS turned on: replaced by one that listens');
  } finally {
    await running.stop();
  }
});

test('an adopted proxy keeps writing its access log, with the settings it started with', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-dataplane-'));
  const log = accessLogDir();
  const running = proxyProcess({ dir, accessLog: log });
  const upstream = await startUpstream('up');
  try {
    await running.start();
    const pid = (await running.info())!.pid;
    // A daemon restarted with the access log turned off adopts it all the same: replacing it would drop connections.
    const adopter = proxyProcess({ dir, accessLog: null });
    const { port } = await adopter.start();
    assert.equal((await adopter.info())!.pid, pid, 'adopted, not replaced');
    await adopter.apply(tableFor('app', ['app.localhost'], [{ address: upstream.address }]));
    assert.equal((await request({ port, host: 'app.localhost', path: '/after' })).status, 200);
    assert.deepEqual((await adopter.stats()).accessLog?.dir, log.dir);
    await adopter.stop();
    const lines = readFileSync(join(log.dir, ACCESS_LOG_CURRENT), 'utf8').trim().split('\n').map(parseAccessLine);
    assert.deepEqual(lines.map((e) => e?.path), ['/after']);
  } finally {
    await running.stop();
    await upstream.close();
  }
});
