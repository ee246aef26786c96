/**
 * What the proxy logs for each request, through real sockets: the app's answers with their release and
 * instance, the proxy's own answers with none (the app when the host routed), over HTTP/1 to a real file
 * and over HTTP/2 to an in-memory sink (an honest AccessSink).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rawExchange, request } from '../../../test/support/http.ts';
import { ACCESS_LOG_CURRENT, parseAccessLine, type AccessEntry } from '../../dataplane/access-log.ts';
import { h2Client, h2Request, startH2Proxy } from '../http2/h2.test-support.ts';
import { startProxyServer } from '../server.ts';
import { startUpstream, tableFor } from '../upstream.test-support.ts';

const GENERATED = /^[0-9a-f]{16}-[0-9a-f]+$/;

async function refusedAddress(): Promise<string> {
  const server = createNetServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as { port: number };
  await new Promise<void>((r) => server.close(() => r()));
  return `127.0.0.1:${port}`;
}

const pick = (e: AccessEntry | null) => e && [e.method, e.path, e.status, e.host, e.app, e.release, e.instance];

test('HTTP/1: one line per request, app answers and proxy answers told apart, flushed when the proxy closes', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-proxy-log-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const proxy = await startProxyServer({ host: '127.0.0.1', port: 0, accessLog: { dir, maxFileBytes: 1024 * 1024, keepDays: 1 } });
  const up = await startUpstream('up', (req, res) => res.writeHead(req.url === '/boom' ? 500 : 200).end('hello'));
  const port = proxy.address.port;
  try {
    proxy.apply({
      generation: 1,
      apps: {
        app: { hosts: ['app.localhost'], drainTimeoutMs: 1000, targets: [{ id: 'ins_1', release: 'rel_1', address: up.address, weight: 1, state: 'active' }] },
        empty: { hosts: ['empty.localhost'], drainTimeoutMs: 1000, targets: [] },
        down: { hosts: ['down.localhost'], drainTimeoutMs: 1000, targets: [{ id: 'ins_d', release: 'rel_d', address: await refusedAddress(), weight: 1, state: 'active' }] },
      },
    });
    await request({ port, host: 'App.Localhost:8080', path: '/hello?token=secret', headers: { 'x-request-id': 'req-1' } });
    await request({ port, host: 'app.localhost', path: '/boom', method: 'POST', body: 'x' });
    await request({ port, host: 'nowhere.localhost', path: '/n' });
    await request({ port, host: 'empty.localhost', path: '/e' });
    await request({ port, host: 'down.localhost', path: '/d' });
    await rawExchange(port, 'GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n');
  } finally {
    await proxy.close(100);
    await up.close();
  }
  const entries = readFileSync(join(dir, ACCESS_LOG_CURRENT), 'utf8').trim().split('\n').map(parseAccessLine);
  assert.deepEqual(entries.map(pick), [
    ['GET', '/hello', 200, 'app.localhost', 'app', 'rel_1', 'ins_1'],
    ['POST', '/boom', 500, 'app.localhost', 'app', 'rel_1', 'ins_1'],
    ['GET', '/n', 404, 'nowhere.localhost', null, null, null],
    ['GET', '/e', 503, 'empty.localhost', 'empty', null, null],
    ['GET', '/d', 502, 'down.localhost', 'down', null, null],
    ['-', '-', 400, '', null, null, null],
  ]);
  const [hello, boom, notFound] = entries as AccessEntry[];
  assert.equal(hello.id, 'req-1');
  assert.match(boom.id, GENERATED);
  assert.deepEqual([hello.ip, hello.proto, hello.tls, hello.bytes, boom.bytes], ['127.0.0.1', 'h1', false, 5, 5]);
  assert.ok(notFound.bytes > 0, 'the proxy page counted');
  assert.ok(hello.ms >= 0 && hello.ms < 5000 && Math.round(hello.ms * 1000) === hello.ms * 1000, 'ms, 3 decimals');
  assert.ok(Math.abs(Date.parse(hello.time) - Date.now()) < 60_000 && hello.time.endsWith('Z'));
});

test('HTTP/2: the same fields, proto h2 over TLS, the id the app got', async () => {
  const entries: AccessEntry[] = [];
  const proxy = await startH2Proxy({ accessLog: { add: (e) => entries.push(e) } });
  const up = await startUpstream('up', (req, res) => res.end(String(req.headers['x-request-id'])));
  const session = h2Client(proxy);
  try {
    proxy.routes.apply(tableFor('app', ['app.localhost'], [{ id: 'ins_h', release: 'rel_h', address: up.address }]));
    const given = await h2Request(session, { ':path': '/p?q=1', 'x-request-id': 'mine' });
    const made = await h2Request(session, { ':path': '/m' });
    await h2Request(session, { ':path': '/x', ':authority': 'nowhere.localhost' });
    assert.equal(given.body.toString(), 'mine');
    assert.deepEqual(entries.map(pick), [
      ['GET', '/p', 200, 'app.localhost', 'app', 'rel_h', 'ins_h'],
      ['GET', '/m', 200, 'app.localhost', 'app', 'rel_h', 'ins_h'],
      ['GET', '/x', 404, 'nowhere.localhost', null, null, null],
    ]);
    assert.equal(entries[1].id, made.body.toString(), 'the generated id is the one the app got');
    assert.match(entries[1].id, GENERATED);
    assert.deepEqual([entries[0].proto, entries[0].tls, entries[0].bytes], ['h2', true, 4]);
  } finally {
    session.close();
    await proxy.close();
    await up.close();
  }
});
