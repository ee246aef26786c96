import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Agent } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import { rawExchange, request } from '../../test/support/http.ts';
import { startProxyServer, type ProxyServer } from './server.ts';
import { startUpstream, tableFor, type TestUpstream } from './upstream.test-support.ts';

describe('proxy: routing and forwarding', () => {
  let proxy: ProxyServer;
  let a: TestUpstream;
  let b: TestUpstream;
  before(async () => {
    proxy = await startProxyServer({ host: '127.0.0.1', port: 0, connection: { responseTimeoutMs: 300 } });
    a = await startUpstream('a');
    b = await startUpstream('b', (req, res, body) => {
      if (req.url === '/slow') return setTimeout(() => res.end('late'), 1000);
      if (req.url === '/chunked') {
        res.write('part1-');
        setTimeout(() => res.end('part2'), 10);
        return;
      }
      if (req.url === '/nocontent') return res.writeHead(204).end();
      if (req.url === '/headers') {
        res.setHeader('connection', 'x-secret-hop');
        res.setHeader('x-secret-hop', 'no');
        res.setHeader('keep-alive', 'timeout=5');
        return res.end('h');
      }
      res.end(JSON.stringify({ name: 'b', url: req.url, received: body.length }));
    });
  });
  after(async () => {
    await proxy.close(100);
    await a.close();
    await b.close();
  });

  test('routes by Host, port and case ignored, and sets X-Forwarded-* itself', async () => {
    proxy.apply(tableFor('alpha', ['alpha.localhost'], [{ address: a.address }]));
    const reply = await request({ port: proxy.address.port, host: 'Alpha.Localhost:8080', path: '/x?y=1', headers: { 'x-forwarded-for': '6.6.6.6', forwarded: 'for=6.6.6.6' } });
    assert.equal(reply.status, 200);
    assert.deepEqual(JSON.parse(reply.body), { name: 'a', url: '/x?y=1', received: 0 });
    const seen = a.requests.at(-1)!.headers;
    assert.equal(seen['x-forwarded-for'], '127.0.0.1', 'a client cannot spoof its address');
    assert.equal(seen['x-forwarded-proto'], 'http');
    assert.equal(seen['x-forwarded-host'], 'Alpha.Localhost:8080');
    assert.equal(seen.forwarded, undefined);
  });

  test('unknown host gets 404 with a stable code; an app without instances 503', async () => {
    proxy.apply(tableFor('alpha', ['alpha.localhost'], []));
    const none = await request({ port: proxy.address.port, host: 'nope.localhost' });
    assert.equal(none.status, 404);
    assert.equal(none.headers['x-berth-error'], 'no-app');
    const empty = await request({ port: proxy.address.port, host: 'alpha.localhost', headers: { accept: 'application/json' } });
    assert.equal(empty.status, 503);
    assert.equal(empty.headers['x-berth-error'], 'no-healthy-instance');
    assert.equal(empty.headers['retry-after'], '5');
    assert.equal(JSON.parse(empty.body).error.code, 'no-healthy-instance');
  });

  test('wildcard domains match subdomains, exact names win', async () => {
    const table = tableFor('alpha', ['*.example.test'], [{ address: a.address }]);
    table.apps.beta = { hosts: ['api.example.test'], drainTimeoutMs: 1000, targets: [{ id: 'tb', release: 'v1', address: b.address, weight: 1, state: 'active' }] };
    proxy.apply(table);
    assert.equal(JSON.parse((await request({ port: proxy.address.port, host: 'www.example.test' })).body).name, 'a');
    assert.equal(JSON.parse((await request({ port: proxy.address.port, host: 'api.example.test' })).body).name, 'b');
    assert.equal((await request({ port: proxy.address.port, host: 'example.test' })).status, 404);
  });

  test('request bodies stream through: Content-Length, chunked, and 5 MB', async () => {
    proxy.apply(tableFor('beta', ['beta.localhost'], [{ address: b.address }]));
    const small = await request({ port: proxy.address.port, host: 'beta.localhost', method: 'POST', body: 'hello' });
    assert.equal(JSON.parse(small.body).received, 5);
    const big = Buffer.alloc(5 * 1024 * 1024, 97);
    const large = await request({ port: proxy.address.port, host: 'beta.localhost', method: 'POST', body: big });
    assert.equal(JSON.parse(large.body).received, big.length);
    const chunked = await rawExchange(
      proxy.address.port,
      'POST /c HTTP/1.1\r\nHost: beta.localhost\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\n\r\n',
    );
    assert.match(chunked, /^HTTP\/1\.1 200/);
    assert.match(chunked, /"received":11/);
  });

  test('chunked responses pass to HTTP/1.1 clients and are decoded for HTTP/1.0 clients', async () => {
    proxy.apply(tableFor('beta', ['beta.localhost'], [{ address: b.address }]));
    const v11 = await request({ port: proxy.address.port, host: 'beta.localhost', path: '/chunked' });
    assert.equal(v11.body, 'part1-part2');
    const v10 = await rawExchange(proxy.address.port, 'GET /chunked HTTP/1.0\r\nHost: beta.localhost\r\n\r\n', 1000);
    assert.match(v10, /^HTTP\/1\.1 200/);
    assert.doesNotMatch(v10, /transfer-encoding/i);
    assert.match(v10, /\r\n\r\npart1-part2$/);
  });

  test('hop-by-hop headers, including ones named in Connection, never cross', async () => {
    proxy.apply(tableFor('beta', ['beta.localhost'], [{ address: b.address }]));
    const reply = await rawExchange(proxy.address.port, 'GET /headers HTTP/1.1\r\nHost: beta.localhost\r\nConnection: close, x-drop\r\nX-Drop: 1\r\nX-Keep: 2\r\n\r\n');
    const seen = b.requests.at(-1)!.headers;
    assert.equal(seen['x-drop'], undefined);
    assert.equal(seen['x-keep'], '2');
    assert.doesNotMatch(reply, /x-secret-hop/i);
    assert.doesNotMatch(reply, /keep-alive/i);
    assert.match(reply, /\r\n\r\nh$/);
  });

  test('an upstream Connection header cannot remove the response framing berth reads', async () => {
    // A raw upstream naming its own Content-Length in Connection: dropping it would leave the client reading
    // the body until close while berth keeps the connection, so the next response would join this body.
    const raw = createNetServer((socket) => {
      socket.on('data', () => socket.write('HTTP/1.1 200 OK\r\nConnection: content-length, transfer-encoding\r\nContent-Length: 5\r\n\r\nhello'));
    });
    await new Promise<void>((r) => raw.listen(0, '127.0.0.1', r));
    proxy.apply(tableFor('raw', ['raw.localhost'], [{ address: `127.0.0.1:${(raw.address() as { port: number }).port}` }]));
    const out = await rawExchange(proxy.address.port, 'GET /1 HTTP/1.1\r\nHost: raw.localhost\r\n\r\n', 500);
    assert.match(out, /^HTTP\/1\.1 200 OK\r\n/);
    assert.match(out, /\r\nContent-Length: 5\r\n/i);
    assert.doesNotMatch(out, /\r\nConnection: content-length/i);
    raw.close();
  });

  test('the proxy refuses with the reason phrase of its status', async () => {
    const cases: [string, string][] = [
      ['GET / HTTP/1.1\r\nHost: a.localhost\r\nX: ' + 'a'.repeat(40 * 1024) + '\r\n\r\n', '431 Request Header Fields Too Large'],
      ['POST / HTTP/1.1\r\nHost: a.localhost\r\nTransfer-Encoding: gzip\r\n\r\n', '501 Not Implemented'],
      ['GET / HTTP/1.2\r\nHost: a.localhost\r\n\r\n', '505 HTTP Version Not Supported'],
      ['CONNECT a.localhost:443 HTTP/1.1\r\nHost: a.localhost\r\n\r\n', '405 Method Not Allowed'],
      ['GET /../x HTTP/1.1\r\nHost: a.localhost\r\n\r\n', '400 Bad Request'],
      ['GET /a#b HTTP/1.1\r\nHost: a.localhost\r\n\r\n', '400 Bad Request'],
      ['GET / HTTP/1.1\r\nHost: nowhere.localhost\r\nConnection: close\r\n\r\n', '404 Not Found'],
    ];
    for (const [request, status] of cases) {
      const out = await rawExchange(proxy.address.port, request, 500);
      assert.ok(out.startsWith(`HTTP/1.1 ${status}\r\n`), `${JSON.stringify(request.slice(0, 40))} got ${JSON.stringify(out.slice(0, 60))}`);
    }
  });

  test('HEAD and 204 responses have no body and keep the connection usable', async () => {
    proxy.apply(tableFor('beta', ['beta.localhost'], [{ address: b.address }]));
    const out = await rawExchange(
      proxy.address.port,
      'HEAD /x HTTP/1.1\r\nHost: beta.localhost\r\n\r\nGET /nocontent HTTP/1.1\r\nHost: beta.localhost\r\n\r\nGET /last HTTP/1.1\r\nHost: beta.localhost\r\nConnection: close\r\n\r\n',
      1000,
    );
    const statuses = [...out.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((m) => m[1]);
    assert.deepEqual(statuses, ['200', '204', '200']);
    assert.match(out, /"url":"\/last"/);
  });

  test('pipelined requests are answered in order on one connection', async () => {
    proxy.apply(tableFor('alpha', ['alpha.localhost'], [{ address: a.address }]));
    const heads = ['/1', '/2', '/3'].map((p, i) => `GET ${p} HTTP/1.1\r\nHost: alpha.localhost${i === 2 ? '\r\nConnection: close' : ''}\r\n\r\n`).join('');
    const out = await rawExchange(proxy.address.port, heads, 1000);
    assert.deepEqual([...out.matchAll(/"url":"(\/\d)"/g)].map((m) => m[1]), ['/1', '/2', '/3']);
  });

  test('upstream connections are kept alive and reused', async () => {
    const fresh = await startUpstream('fresh');
    proxy.apply(tableFor('fresh', ['fresh.localhost'], [{ address: fresh.address }]));
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    for (let i = 0; i < 50; i++) assert.equal((await request({ port: proxy.address.port, host: 'fresh.localhost', agent })).status, 200);
    agent.destroy();
    assert.equal(fresh.connections, 1);
    await fresh.close();
  });

  test('weights split traffic between targets', async () => {
    proxy.apply(tableFor('split', ['split.localhost'], [{ id: 'ta', address: a.address, weight: 3 }, { id: 'tb', address: b.address, weight: 1 }]));
    const names: Record<string, number> = { a: 0, b: 0 };
    for (let i = 0; i < 40; i++) names[JSON.parse((await request({ port: proxy.address.port, host: 'split.localhost' })).body).name]++;
    assert.deepEqual(names, { a: 30, b: 10 });
  });

  test('a refused connection is retried on another target; no target left gives 502', async () => {
    const dead = await startUpstream('dead');
    const deadAddress = dead.address;
    await dead.close();
    proxy.apply(tableFor('retry', ['retry.localhost'], [{ id: 'dead', address: deadAddress }, { id: 'live', address: a.address }]));
    for (let i = 0; i < 10; i++) assert.equal((await request({ port: proxy.address.port, host: 'retry.localhost', method: 'POST', body: 'x' })).status, 200);
    proxy.apply(tableFor('retry', ['retry.localhost'], [{ id: 'dead', address: deadAddress }]));
    const reply = await request({ port: proxy.address.port, host: 'retry.localhost' });
    assert.equal(reply.status, 502);
    assert.equal(reply.headers['x-berth-error'], 'upstream-unreachable');
  });

  test('a slow upstream gets 504 after the response timeout', async () => {
    proxy.apply(tableFor('beta', ['beta.localhost'], [{ address: b.address }]));
    const reply = await request({ port: proxy.address.port, host: 'beta.localhost', path: '/slow' });
    assert.equal(reply.status, 504);
    assert.equal(reply.headers['x-berth-error'], 'upstream-timeout');
  });

  test('every request is measured per target', async () => {
    proxy.apply(tableFor('alpha', ['alpha.localhost'], [{ id: 'measured', address: a.address }]));
    for (let i = 0; i < 5; i++) await request({ port: proxy.address.port, host: 'alpha.localhost' });
    const stats = proxy.stats().targets.measured;
    assert.equal(stats.requests, 5);
    assert.equal(stats.status['2xx'], 5);
    assert.equal(stats.latency.counts.reduce((x, y) => x + y, 0), 5);
    assert.equal(stats.inflight, 0);
  });

  test('Expect: 100-continue is relayed', async () => {
    proxy.apply(tableFor('alpha', ['alpha.localhost'], [{ address: a.address }]));
    const out = await rawExchange(proxy.address.port, 'POST /e HTTP/1.1\r\nHost: alpha.localhost\r\nContent-Length: 3\r\nExpect: 100-continue\r\nConnection: close\r\n\r\nabc', 1000);
    assert.match(out, /^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200/);
    assert.match(out, /"received":3/);
  });
});
