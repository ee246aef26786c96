import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Agent } from 'node:https';
import { connect } from 'node:tls';
import { request } from '../../test/support/http.ts';
import { makeTestCa, tlsCertificate, type TestCa } from '../../test/support/tls-certs.ts';
import { frame, readFrame } from '../../test/fixtures/apps/versioned/ws.js';
import type { RouteTable } from '../dataplane/route-table.ts';
import { startProxyServer, type ProxyServer } from './server.ts';
import { tlsRequest } from './tls/tls.test-support.ts';
import { startUpstream, type TestUpstream } from './upstream.test-support.ts';

describe('proxy: HTTP/1.1 over TLS to the apps', () => {
  let ca: TestCa;
  let proxy: ProxyServer;
  let upstream: TestUpstream;
  let port: number;
  before(async () => {
    ca = makeTestCa();
    const leaf = ca.issue(['hsts.test', 'plain.test']);
    proxy = await startProxyServer({ host: '127.0.0.1', port: 0, https: { host: '127.0.0.1', port: 0 } });
    proxy.applyCertificates({ generation: 1, certificates: [tlsCertificate('both', ['hsts.test', 'plain.test'], leaf)] });
    upstream = await startUpstream('up', (req, res) => {
      // The app's own HSTS: berth's value replaces it where the app asks berth for one.
      if (req.url === '/own-hsts') res.setHeader('strict-transport-security', 'max-age=1');
      res.end(JSON.stringify({ url: req.url }));
    });
    const route = (hsts: string | null) => ({
      hosts: [] as string[],
      drainTimeoutMs: 1000,
      targets: [{ id: 'u', release: 'v1', address: upstream.address, weight: 1, state: 'active' as const }],
      https: { redirect: false, hsts },
    });
    const table: RouteTable = {
      generation: 1,
      apps: { hsts: { ...route('max-age=63072000; includeSubDomains'), hosts: ['hsts.test'] }, plain: { ...route(null), hosts: ['plain.test'] } },
    };
    proxy.apply(table);
    port = proxy.httpsAddress!.port;
  });
  after(async () => {
    await proxy.close(100);
    await upstream.close();
  });

  test('the app hears X-Forwarded-Proto: https, whatever the client claims', async () => {
    const reply = await tlsRequest({ port, host: 'plain.test', ca: ca.certPem, path: '/p', headers: { 'x-forwarded-proto': 'http' } });
    assert.equal(reply.status, 200);
    const seen = upstream.requests.at(-1)!.headers;
    assert.equal(seen['x-forwarded-proto'], 'https');
    assert.equal(seen['x-forwarded-host'], 'plain.test');
    assert.equal(seen['x-forwarded-for'], '127.0.0.1');
  });

  test('HSTS: over TLS for an app that asks, replacing its own; never over plain HTTP, never for others', async () => {
    const tls = await tlsRequest({ port, host: 'hsts.test', ca: ca.certPem, path: '/own-hsts' });
    assert.equal(tls.headers['strict-transport-security'], 'max-age=63072000; includeSubDomains');
    assert.equal(JSON.parse(tls.body).url, '/own-hsts');
    const other = await tlsRequest({ port, host: 'plain.test', ca: ca.certPem });
    assert.equal(other.headers['strict-transport-security'], undefined);
    const http = await request({ port: proxy.address.port, host: 'hsts.test' });
    assert.equal(http.status, 200);
    assert.equal(http.headers['strict-transport-security'], undefined);
  });

  test('keep-alive over TLS: many requests, one handshake', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const before = proxy.stats().tls.handshakes;
    try {
      for (let i = 0; i < 20; i++) {
        const reply = await tlsRequest({ port, host: 'hsts.test', ca: ca.certPem, path: `/${i}`, agent });
        assert.equal(JSON.parse(reply.body).url, `/${i}`);
      }
    } finally {
      agent.destroy();
    }
    assert.equal(proxy.stats().tls.handshakes - before, 1);
  });

  test('a WebSocket opens over TLS with ALPN http/1.1 and carries messages both ways', async () => {
    const socket = connect({ port, host: '127.0.0.1', servername: 'plain.test', ca: ca.certPem, ALPNProtocols: ['http/1.1'] });
    try {
      await new Promise<void>((resolve, reject) => socket.once('secureConnect', resolve).once('error', reject));
      assert.equal(socket.alpnProtocol, 'http/1.1');
      const key = randomBytes(16).toString('base64');
      socket.write(`GET /ws HTTP/1.1\r\nHost: plain.test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`);
      let buf = Buffer.alloc(0);
      const messages: string[] = [];
      let head = '';
      const got = new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no echo; head ${JSON.stringify(head)}`)), 5000);
        socket.on('data', (chunk: Buffer) => {
          buf = Buffer.concat([buf, chunk]);
          if (!head) {
            const end = buf.indexOf('\r\n\r\n');
            if (end === -1) return;
            head = buf.subarray(0, end).toString();
            buf = buf.subarray(end + 4);
            socket.write(frame(0x1, Buffer.from('hello'), randomBytes(4)));
          }
          for (let next = readFrame(buf); next; next = readFrame(buf)) {
            buf = buf.subarray(next.size);
            if (next.opcode === 0x1) messages.push(next.payload.toString());
          }
          if (messages.length) {
            clearTimeout(timer);
            resolve();
          }
        });
      });
      await got;
      assert.match(head, /^HTTP\/1\.1 101 /);
      assert.deepEqual(messages, ['up:hello']);
    } finally {
      socket.destroy();
    }
  });
});
