import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { constants, randomBytes } from 'node:crypto';
import { connect as h2connect } from 'node:http2';
import { Agent } from 'node:https';
import { connect as netConnect } from 'node:net';
import type { ConnectionOptions } from 'node:tls';
import { rawExchange } from '../../../test/support/http.ts';
import { makeTestCa, tlsCertificate, type TestCa, type TestLeaf } from '../../../test/support/tls-certs.ts';
import { startProxyServer, type ProxyServer } from '../server.ts';
import { startUpstream, tableFor, type TestUpstream } from '../upstream.test-support.ts';
import { handshake, tlsRequest, type Handshake } from './tls.test-support.ts';

const HANDSHAKE_TIMEOUT_MS = 300;

describe('proxy: the TLS listener', () => {
  let ca: TestCa;
  let app: TestLeaf;
  let wild: TestLeaf;
  let proxy: ProxyServer;
  let upstream: TestUpstream;
  let port: number;
  before(async () => {
    ca = makeTestCa();
    app = ca.issue(['app.test']);
    wild = ca.issue(['*.wild.test']);
    proxy = await startProxyServer({ host: '127.0.0.1', port: 0, https: { host: '127.0.0.1', port: 0 }, handshakeTimeoutMs: HANDSHAKE_TIMEOUT_MS });
    proxy.applyCertificates({ generation: 1, certificates: [tlsCertificate('app', ['app.test'], app), tlsCertificate('wild', ['*.wild.test'], wild)] });
    upstream = await startUpstream('up');
    proxy.apply(tableFor('app', ['app.test', '*.wild.test'], [{ address: upstream.address }]));
    port = proxy.httpsAddress!.port;
  });
  after(async () => {
    await proxy.close(100);
    await upstream.close();
  });
  const shake = (options: ConnectionOptions = {}) => handshake(port, { ca: ca.certPem, ...options });
  const ok = (result: Awaited<ReturnType<typeof handshake>>): Handshake => {
    assert.ok(result.ok, `handshake refused: ${!result.ok && result.code}`);
    return result;
  };

  test('SNI picks the certificate: the exact name, a wildcard one label deep', async () => {
    assert.equal(ok(await shake({ servername: 'app.test' })).fingerprint256, app.fingerprint256);
    assert.equal(ok(await shake({ servername: 'www.wild.test' })).fingerprint256, wild.fingerprint256);
    assert.equal((await shake({ servername: 'a.b.wild.test' })).ok, false);
    assert.deepEqual(proxy.info().httpsAddress, proxy.httpsAddress);
    assert.equal(proxy.info().certificatesGeneration, 1);
  });

  test('TLS 1.3, or 1.2 with ECDHE and AEAD ciphers only; ALPN h2 first, then http/1.1', async () => {
    const modern = ok(await shake({ servername: 'app.test', ALPNProtocols: ['h2', 'http/1.1'] }));
    assert.equal(modern.protocol, 'TLSv1.3');
    assert.equal(modern.alpn, 'h2');
    assert.equal(ok(await shake({ servername: 'app.test', ALPNProtocols: ['http/1.1'] })).alpn, 'http/1.1');
    const v12 = ok(await shake({ servername: 'app.test', maxVersion: 'TLSv1.2' }));
    assert.equal(v12.protocol, 'TLSv1.2');
    assert.equal(v12.cipher, 'ECDHE-ECDSA-AES128-GCM-SHA256', 'the server picks: its first choice for an ECDSA certificate');
    const cbc = await shake({ servername: 'app.test', maxVersion: 'TLSv1.2', ciphers: 'ECDHE-ECDSA-AES128-SHA:ECDHE-ECDSA-AES256-SHA384' });
    assert.deepEqual(cbc, { ok: false, code: 'ERR_SSL_SSL/TLS_ALERT_HANDSHAKE_FAILURE' }, 'CBC suites are not offered');
  });

  test('an unknown name, no name, and TLS 1.1 are refused with an alert and counted; serving goes on', async () => {
    const before = proxy.stats().tls;
    assert.deepEqual(await shake({ servername: 'unknown.test' }), { ok: false, code: 'ERR_SSL_SSL/TLS_ALERT_HANDSHAKE_FAILURE' });
    assert.deepEqual(await shake({}), { ok: false, code: 'ERR_SSL_SSL/TLS_ALERT_HANDSHAKE_FAILURE' }, 'no SNI (an IP address is never sent as one)');
    const old = await shake({ servername: 'app.test', minVersion: 'TLSv1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT@SECLEVEL=0' });
    assert.deepEqual(old, { ok: false, code: 'ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION' });
    const now = proxy.stats().tls;
    assert.equal(now.refused - before.refused, 3);
    assert.equal(ok(await shake({ servername: 'app.test' })).fingerprint256, app.fingerprint256);
    assert.equal(proxy.stats().tls.handshakes, now.handshakes + 1);
  });

  test('plain HTTP on the TLS port gets a 400 saying so; garbage is closed; neither disturbs serving', async () => {
    const before = proxy.stats().tls;
    const plain = await rawExchange(port, 'GET / HTTP/1.1\r\nHost: app.test\r\n\r\n', 2000);
    assert.match(plain, /^HTTP\/1\.1 400 Bad Request\r\n/);
    assert.match(plain, /\r\nConnection: close\r\n/);
    assert.match(plain, /X-Berth-Error: plain-http-to-https-port/);
    assert.match(plain, /The plain HTTP request was sent to the HTTPS port/);
    const started = Date.now();
    assert.equal(await rawExchange(port, randomBytes(64).fill(0, 0, 1), 2000), '', 'not TLS, not HTTP: closed without a word');
    const tlsGarbage = Buffer.concat([Buffer.from([0x16, 0x03, 0x01, 0x00, 0x20]), randomBytes(32)]);
    assert.doesNotMatch(await rawExchange(port, tlsGarbage, 2000), /HTTP/, 'a broken TLS record gets an alert at most');
    assert.ok(Date.now() - started < 1500, 'both closed at once, not at the end of the wait');
    const now = proxy.stats().tls;
    assert.equal(now.plainHttp - before.plainHttp, 1);
    assert.equal(now.refused - before.refused, 2);
    ok(await shake({ servername: 'app.test' }));
  });

  test('a few hundred connections of random bytes, TLS-looking or not, leave the listener serving', async () => {
    const deadline = Date.now() + 20_000;
    for (let round = 0; round < 10 && Date.now() < deadline; round++) {
      await Promise.all(
        Array.from({ length: 30 }, (_, i) => {
          const junk = randomBytes(3 + ((round * 30 + i) % 700));
          if (i % 2 === 0) junk.set([0x16, 0x03, i % 4], 0);
          return rawExchange(port, junk, 1000).catch(() => '');
        }),
      );
    }
    ok(await shake({ servername: 'app.test' }));
    assert.equal(proxy.stats().connections, 0, 'none of them is left open');
  });

  test('a client that stalls in its hello, or says nothing, is cut after the handshake timeout', async () => {
    const closedAfter = (first: Buffer | null) =>
      new Promise<number>((resolve) => {
        const started = Date.now();
        const socket = netConnect(port, '127.0.0.1', () => first && socket.write(first));
        socket.on('error', () => {});
        socket.on('close', () => resolve(Date.now() - started));
        socket.resume();
      });
    const [midHello, silent] = await Promise.all([closedAfter(Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00])), closedAfter(null)]);
    for (const ms of [midHello, silent]) assert.ok(ms >= HANDSHAKE_TIMEOUT_MS - 20 && ms < HANDSHAKE_TIMEOUT_MS + 1500, `cut after ${ms} ms`);
  });

  test('the handshake timer ends with the handshake: a keep-alive connection may idle longer between requests', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const handshakes = proxy.stats().tls.handshakes;
      assert.equal((await tlsRequest({ port, host: 'app.test', ca: ca.certPem, agent })).status, 200);
      await new Promise((r) => setTimeout(r, HANDSHAKE_TIMEOUT_MS * 2));
      assert.equal((await tlsRequest({ port, host: 'app.test', ca: ca.certPem, agent })).status, 200);
      assert.equal(proxy.stats().tls.handshakes - handshakes, 1, 'the same connection served both');
    } finally {
      agent.destroy();
    }
  });

  test('sessions resume: TLS 1.3 tickets, TLS 1.2 tickets, TLS 1.2 session IDs', async () => {
    const resumed = async (options: ConnectionOptions) => {
      const first = ok(await shake({ servername: 'app.test', ...options }));
      assert.ok(first.session, 'a session to resume');
      return ok(await shake({ servername: 'app.test', ...options, session: first.session })).reused;
    };
    assert.equal(await resumed({}), true, 'TLS 1.3 ticket');
    assert.equal(await resumed({ maxVersion: 'TLSv1.2' }), true, 'TLS 1.2 ticket');
    assert.equal(await resumed({ maxVersion: 'TLSv1.2', secureOptions: constants.SSL_OP_NO_TICKET }), true, 'TLS 1.2 session ID');
  });

  test('ALPN h2 is handed to the HTTP/2 session, which forwards with X-Forwarded-Proto: https', async () => {
    const session = h2connect(`https://127.0.0.1:${port}`, { ca: ca.certPem, servername: 'app.test' });
    try {
      const reply = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        const stream = session.request({ ':path': '/h2', ':authority': 'app.test' });
        let status = 0;
        let body = '';
        stream.on('response', (headers) => (status = Number(headers[':status'])));
        stream.on('data', (c: Buffer) => (body += c));
        stream.on('end', () => resolve({ status, body }));
        stream.on('error', reject);
      });
      assert.equal(reply.status, 200);
      assert.equal(JSON.parse(reply.body).url, '/h2');
      assert.equal(upstream.requests.at(-1)!.headers['x-forwarded-proto'], 'https');
    } finally {
      session.close();
    }
  });
});

test('closing the proxy cuts handshakes in progress: close does not wait for their timeout', async () => {
  const proxy = await startProxyServer({ host: '127.0.0.1', port: 0, https: { host: '127.0.0.1', port: 0 }, handshakeTimeoutMs: 30_000 });
  const socket = netConnect(proxy.httpsAddress!.port, '127.0.0.1', () => socket.write(Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00])));
  socket.on('error', () => {});
  await new Promise((r) => socket.once('connect', r));
  await new Promise((r) => setTimeout(r, 50));
  const started = Date.now();
  await proxy.close(200);
  assert.ok(Date.now() - started < 2000, `closed in ${Date.now() - started} ms`);
  assert.ok(socket.destroyed || (await new Promise((r) => socket.once('close', () => r(true)))));
});
