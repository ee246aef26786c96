import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ClientHttp2Session } from 'node:http2';
import { createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
import { waitFor } from '../../../test/support/http.ts';
import { startUpstream, tableFor, type TestUpstream } from '../upstream.test-support.ts';
import { h2Client, h2Request, startH2Proxy, type H2Proxy } from './h2.test-support.ts';

describe('http2 proxy: forwarding over the HTTP/1.1 pools', () => {
  let proxy: H2Proxy;
  let up: TestUpstream;
  let client: ClientHttp2Session;
  before(async () => {
    proxy = await startH2Proxy();
    up = await startUpstream('a', (req, res, body) => {
      const url = new URL(req.url!, 'http://x');
      if (url.pathname === '/hop') {
        res.setHeader('connection', 'x-secret-hop');
        res.setHeader('x-secret-hop', 'no');
        res.setHeader('keep-alive', 'timeout=5');
        res.setHeader('proxy-connection', 'keep-alive');
        res.setHeader('x-kept', 'yes');
        return res.end('h');
      }
      if (url.pathname === '/chunked') {
        res.write('part1-');
        setTimeout(() => res.end('part2'), 10);
        return;
      }
      if (url.pathname === '/hints') {
        res.writeEarlyHints({ link: ['</a.css>; rel=preload', '</b.js>; rel=preload'] });
        return setTimeout(() => res.end('after hints'), 10);
      }
      if (url.pathname === '/nocontent') return res.writeHead(204).end();
      if (url.pathname === '/wait') return setTimeout(() => res.end(JSON.stringify({ url: req.url })), 60);
      const json = JSON.stringify({ url: req.url, method: req.method, received: body.length, body });
      res.setHeader('content-type', 'application/json');
      res.setHeader('content-length', Buffer.byteLength(json));
      res.end(json);
    });
    proxy.routes.apply(tableFor('app', ['app.localhost'], [{ id: 'a1', address: up.address }]));
    client = h2Client(proxy);
  });
  after(async () => {
    client.close();
    await proxy.close();
    await up.close();
  });

  test('routes by :authority; X-Forwarded-* are berth\'s; split cookies arrive joined', async () => {
    const reply = await h2Request(client, {
      ':path': '/x?y=1',
      ':authority': 'App.Localhost:8443',
      cookie: ['a=1', 'b=2'],
      'x-forwarded-for': '6.6.6.6',
      forwarded: 'for=6.6.6.6',
    });
    assert.equal(reply.status, 200);
    assert.equal(JSON.parse(reply.body.toString()).url, '/x?y=1');
    const seen = up.requests.at(-1)!.headers;
    assert.equal(seen.host, 'App.Localhost:8443');
    assert.equal(seen['x-forwarded-for'], '127.0.0.1', 'a client cannot spoof its address');
    assert.equal(seen['x-forwarded-proto'], 'https');
    assert.equal(seen['x-forwarded-host'], 'App.Localhost:8443');
    assert.equal(seen.forwarded, undefined);
    assert.equal(seen.cookie, 'a=1; b=2');
  });

  test('POST bodies: with Content-Length, and chunked when the client gave none', async () => {
    const sized = await h2Request(client, { ':method': 'POST', ':path': '/p', 'content-length': '5' }, 'hello');
    assert.deepEqual(JSON.parse(sized.body.toString()), { url: '/p', method: 'POST', received: 5, body: 'hello' });
    assert.equal(up.requests.at(-1)!.headers['content-length'], '5');
    assert.equal(up.requests.at(-1)!.headers['transfer-encoding'], undefined);
    const unsized = await h2Request(client, { ':method': 'POST', ':path': '/c' }, 'chunked body');
    assert.equal(JSON.parse(unsized.body.toString()).body, 'chunked body');
    assert.equal(up.requests.at(-1)!.headers['transfer-encoding'], 'chunked');
    assert.equal(up.requests.at(-1)!.headers['content-length'], undefined);
    const empty = await h2Request(client, { ':method': 'POST', ':path': '/e', 'content-length': '0' }, '');
    assert.equal(JSON.parse(empty.body.toString()).received, 0);
  });

  test('hop-by-hop headers go neither way', async () => {
    const reply = await h2Request(client, { ':path': '/hop', te: 'trailers', 'proxy-authorization': 'Basic eA==' });
    assert.equal(reply.status, 200);
    assert.equal(reply.headers['x-kept'], 'yes');
    for (const name of ['connection', 'x-secret-hop', 'keep-alive', 'proxy-connection', 'transfer-encoding']) assert.equal(reply.headers[name], undefined, name);
    const seen = up.requests.at(-1)!.headers;
    assert.equal(seen.te, undefined);
    assert.equal(seen['proxy-authorization'], undefined);
  });

  test('chunked, empty and interim responses', async () => {
    const chunked = await h2Request(client, { ':path': '/chunked' });
    assert.equal(chunked.body.toString(), 'part1-part2');
    assert.equal(chunked.headers['transfer-encoding'], undefined);
    const empty = await h2Request(client, { ':path': '/nocontent' });
    assert.equal(empty.status, 204);
    const head = await h2Request(client, { ':method': 'HEAD', ':path': '/x' });
    assert.equal(head.status, 200);
    assert.equal(head.body.length, 0);
    assert.ok(Number(head.headers['content-length']) > 0, 'HEAD keeps the length of what GET would send');

    const hints: unknown[] = [];
    const reply = await new Promise<string>((resolve, reject) => {
      const req = client.request({ ':path': '/hints', ':authority': 'app.localhost' });
      req.on('headers', (h) => hints.push(h));
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (d: string) => (body += d));
      req.on('end', () => resolve(body));
      req.on('error', reject);
    });
    assert.equal(reply, 'after hints');
    assert.equal(hints.length, 1);
    assert.equal((hints[0] as Record<string, unknown>)[':status'], 103);
    assert.match(String((hints[0] as Record<string, unknown>).link), /a\.css.*b\.js/);
  });

  test('Expect: 100-continue: the app\'s 100 reaches the client, which then sends its body', async () => {
    const reply = await new Promise<string>((resolve, reject) => {
      const req = client.request({ ':method': 'POST', ':path': '/expect', ':authority': 'app.localhost', expect: '100-continue', 'content-length': '4' });
      req.on('continue', () => req.end('body'));
      let text = '';
      req.setEncoding('utf8');
      req.on('data', (d: string) => (text += d));
      req.on('end', () => resolve(text));
      req.on('error', reject);
    });
    assert.equal(JSON.parse(reply).body, 'body');
    assert.equal(up.requests.at(-1)!.headers.expect, '100-continue');
  });

  test('unknown host: 404 page, counted as unrouted; an app without instances: 503', async () => {
    const before = proxy.unrouted;
    const none = await h2Request(client, { ':path': '/', ':authority': 'nope.localhost' });
    assert.equal(none.status, 404);
    assert.equal(none.headers['x-berth-error'], 'no-app');
    assert.equal(proxy.unrouted, before + 1);
    const table = tableFor('app', ['app.localhost'], [{ id: 'a1', address: up.address }]);
    table.apps.empty = { hosts: ['empty.localhost'], drainTimeoutMs: 1000, targets: [] };
    proxy.routes.apply(table);
    const empty = await h2Request(client, { ':path': '/', ':authority': 'empty.localhost', accept: 'application/json' });
    assert.equal(empty.status, 503);
    assert.equal(empty.headers['retry-after'], '5');
    assert.equal(JSON.parse(empty.body.toString()).error.code, 'no-healthy-instance');
  });

  test('a header list over maxHeadSize never reaches the app; the session goes on', async () => {
    const before = up.requests.length;
    const refused = (reply: Promise<{ status: number }>) => reply.then((r) => r.status, (e: Error) => e.message);
    // node refuses a block over SETTINGS_MAX_HEADER_LIST_SIZE itself (RST_STREAM ENHANCE_YOUR_CALM); berth's own
    // count (request.ts, the same bound) stands behind it and answers a 431 page.
    const fields: Record<string, string> = {};
    for (let i = 0; i < 200; i++) fields[`x-f${i}`] = 'v'.repeat(130);
    for (const headers of [{ 'x-big': 'x'.repeat(40 * 1024) }, fields]) {
      const outcome = await refused(h2Request(client, { ':path': '/big', ...headers }));
      assert.ok(outcome === 431 || /ENHANCE_YOUR_CALM/.test(String(outcome)), `got ${outcome}`);
    }
    assert.equal(up.requests.length, before);
    assert.equal((await h2Request(client, { ':path': '/x' })).status, 200);
  });

  test('CONNECT is refused: no tunnels over HTTP/2', async () => {
    const reply = await h2Request(client, { ':method': 'CONNECT', ':authority': 'app.localhost:443' });
    assert.equal(reply.status, 405);
    assert.equal(reply.headers['x-berth-error'], 'method-not-allowed');
  });

  test('many streams on one session go out over several upstream connections, which are reused after', async () => {
    const before = up.connections;
    const replies = await Promise.all(Array.from({ length: 60 }, (_, i) => h2Request(client, { ':path': `/wait?i=${i}` })));
    for (const [i, reply] of replies.entries()) {
      assert.equal(reply.status, 200, `${reply.status} ${reply.headers['x-berth-error']}`);
      assert.equal(JSON.parse(reply.body.toString()).url, `/wait?i=${i}`);
    }
    const opened = up.connections - before;
    assert.ok(opened >= 10, `60 concurrent streams used ${opened} upstream connections`);
    for (let i = 0; i < 20; i++) assert.equal((await h2Request(client, { ':path': '/x' })).status, 200);
    assert.equal(up.connections - before, opened, 'sequential requests reuse pooled connections');
    const stats = proxy.routes.targetStats().a1;
    assert.equal(stats.inflight, 0);
    assert.ok(stats.requests >= 80);
  });

  test('HSTS is added when the app has it', async () => {
    const table = tableFor('app', ['app.localhost'], [{ id: 'a1', address: up.address }]);
    table.apps.app.https = { redirect: true, hsts: 'max-age=63072000; includeSubDomains' };
    proxy.routes.apply(table);
    try {
      assert.equal((await h2Request(client, { ':path': '/x' })).headers['strict-transport-security'], 'max-age=63072000; includeSubDomains');
      assert.equal((await h2Request(client, { ':path': '/x', ':authority': 'nope.localhost' })).headers['strict-transport-security'], undefined);
    } finally {
      proxy.routes.apply(tableFor('app', ['app.localhost'], [{ id: 'a1', address: up.address }]));
    }
    assert.equal((await h2Request(client, { ':path': '/x' })).headers['strict-transport-security'], undefined);
  });

  test('a body that does not match its Content-Length never reaches the app whole', async () => {
    const before = up.requests.length;
    // Fewer bytes than announced: a stream error (RST_STREAM), the session goes on.
    await assert.rejects(h2Request(client, { ':method': 'POST', ':path': '/short', 'content-length': '10' }, 'hello'), /PROTOCOL_ERROR/);
    await waitFor('the exchange to end', () => proxy.routes.targetStats().a1.inflight === 0);
    assert.equal((await h2Request(client, { ':path': '/x' })).status, 200, 'the session goes on');
    // More bytes than announced: nghttp2 ends the whole session (GOAWAY) before berth sees a byte.
    const other = h2Client(proxy);
    try {
      await assert.rejects(h2Request(other, { ':method': 'POST', ':path': '/long', 'content-length': '3' }, 'hello world'));
    } finally {
      other.close();
    }
    await waitFor('the exchanges to end', () => proxy.routes.targetStats().a1.inflight === 0);
    assert.equal(up.requests.filter((r) => r.url === '/short' || r.url === '/long').length, 0, 'the app got no such request to answer');
    assert.equal(up.requests.length, before + 1);
  });
});

describe('http2 proxy: upstream faults', () => {
  test('a malformed upstream response is a 502 and its connection is never reused', async () => {
    const proxy = await startH2Proxy();
    const accepted: Socket[] = [];
    const raw: NetServer = createNetServer((socket) => {
      accepted.push(socket);
      socket.on('data', () => socket.write('HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab'));
    });
    await new Promise<void>((r) => raw.listen(0, '127.0.0.1', () => r()));
    const client = h2Client(proxy);
    try {
      proxy.routes.apply(tableFor('app', ['app.localhost'], [{ id: 'bad', address: `127.0.0.1:${(raw.address() as { port: number }).port}` }]));
      const first = await h2Request(client, { ':path': '/' });
      assert.equal(first.status, 502);
      assert.equal(first.headers['x-berth-error'], 'upstream-invalid');
      await waitFor('the bad connection to be closed by berth', () => accepted[0]?.closed || accepted[0]?.readableEnded);
      assert.equal((await h2Request(client, { ':path': '/' })).status, 502);
      assert.equal(accepted.length, 2, 'the second request needed a new connection');
      assert.equal(proxy.routes.targetStats().bad.status.error, 2);
    } finally {
      client.close();
      for (const s of accepted) s.destroy();
      raw.close();
      await proxy.close();
    }
  });

  test('a response delimited by the upstream closing is relayed whole, and that connection is not pooled', async () => {
    const proxy = await startH2Proxy();
    let accepted = 0;
    const raw: NetServer = createNetServer((socket) => {
      accepted++;
      socket.on('data', () => socket.end('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the end'));
    });
    await new Promise<void>((r) => raw.listen(0, '127.0.0.1', () => r()));
    const client = h2Client(proxy);
    try {
      proxy.routes.apply(tableFor('app', ['app.localhost'], [{ id: 'close', address: `127.0.0.1:${(raw.address() as { port: number }).port}` }]));
      for (let i = 0; i < 2; i++) {
        const reply = await h2Request(client, { ':path': '/' });
        assert.equal(reply.status, 200);
        assert.equal(reply.body.toString(), 'until the end');
        assert.equal(reply.headers['content-length'], undefined);
      }
      assert.equal(accepted, 2);
    } finally {
      client.close();
      raw.close();
      await proxy.close();
    }
  });

  test('an upstream that does not answer in time: 504, measured as a proxy error', async () => {
    const proxy = await startH2Proxy({ connection: { responseTimeoutMs: 300 } });
    const slow = await startUpstream('slow', (_req, res) => setTimeout(() => res.end('late'), 3000));
    const client = h2Client(proxy);
    try {
      proxy.routes.apply(tableFor('app', ['app.localhost'], [{ id: 'slow', address: slow.address }]));
      const startedAt = Date.now();
      const reply = await h2Request(client, { ':path': '/' });
      assert.equal(reply.status, 504);
      assert.equal(reply.headers['x-berth-error'], 'upstream-timeout');
      assert.ok(Date.now() - startedAt < 2500, 'answered at the timeout, not when the app did');
      assert.equal(proxy.routes.targetStats().slow.status.error, 1);
    } finally {
      client.close();
      await proxy.close();
      await slow.close();
    }
  });

  test('a refused connection is retried on another target', async () => {
    const proxy = await startH2Proxy();
    const good = await startUpstream('good');
    const dead = createNetServer();
    await new Promise<void>((r) => dead.listen(0, '127.0.0.1', () => r()));
    const deadAddress = `127.0.0.1:${(dead.address() as { port: number }).port}`;
    await new Promise<void>((r) => dead.close(() => r()));
    const client = h2Client(proxy);
    try {
      proxy.routes.apply(tableFor('app', ['app.localhost'], [{ id: 'dead', address: deadAddress }, { id: 'good', address: good.address }]));
      for (let i = 0; i < 6; i++) assert.equal(JSON.parse((await h2Request(client, { ':path': '/' })).body.toString()).name, 'good');
    } finally {
      client.close();
      await proxy.close();
      await good.close();
    }
  });
});
