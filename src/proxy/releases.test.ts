/**
 * Per-release counters (ProxyStats.releases), against real upstreams on 127.0.0.1: they outlive their
 * targets, an unnamed release is forgotten after its hour (on the proxy's clock), and failures before a
 * response are counted as upstream errors and the re-sends as retries, on HTTP/1 and HTTP/2.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer as createNetServer, type Server, type Socket } from 'node:net';
import { request } from '../../test/support/http.ts';
import type { ReleaseStats } from '../dataplane/route-table.ts';
import { h2Client, h2Request, startH2Proxy } from './http2/h2.test-support.ts';
import { RELEASE_FORGET_MS } from './releases.ts';
import { startProxyServer, type ProxyServer } from './server.ts';
import { startUpstream, tableFor, type TestUpstream } from './upstream.test-support.ts';

const release = (proxy: ProxyServer, id: string): ReleaseStats | undefined => proxy.stats().releases.find((r) => r.release === id);

/** A port nothing listens on: connections to it are refused. */
async function refusedAddress(): Promise<string> {
  const server = createNetServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as { port: number };
  await new Promise<void>((r) => server.close(() => r()));
  return `127.0.0.1:${port}`;
}

/**
 * An app that answers the first request of each connection with keep-alive, then closes the connection on
 * the next one without a word: the keep-alive race the proxy must replay.
 */
async function startClosingUpstream(): Promise<{ server: Server; address: string; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createNetServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    let answered = false;
    socket.on('data', () => {
      if (answered) return socket.destroy();
      answered = true;
      socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\nok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    server,
    address: `127.0.0.1:${(server.address() as { port: number }).port}`,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

describe('proxy: per-release counters', () => {
  let now = 1_000_000;
  let proxy: ProxyServer;
  let up: TestUpstream;
  before(async () => {
    proxy = await startProxyServer({ host: '127.0.0.1', port: 0, now: () => now });
    up = await startUpstream('up', (req, res) => {
      if (req.url === '/fail') return res.writeHead(500).end('no');
      if (req.url === '/missing') return res.writeHead(404).end('no');
      res.end('ok');
    });
  });
  after(async () => {
    await proxy.close(100);
    await up.close();
  });

  test('a release keeps its counts after its targets leave the table, and is forgotten an hour after its last request', async () => {
    const port = proxy.address.port;
    proxy.apply(tableFor('app', ['app.localhost'], [{ id: 'a1', release: 'r1', address: up.address }, { id: 'a2', release: 'r1', address: up.address }]));
    for (const path of ['/', '/', '/fail', '/missing']) await request({ port, host: 'app.localhost', path });
    proxy.apply(tableFor('app', ['app.localhost'], [{ id: 'b1', release: 'r2', address: up.address }]));
    await request({ port, host: 'app.localhost' });

    const r1 = release(proxy, 'r1')!;
    assert.deepEqual([r1.app, r1.requests, r1.status], ['app', 4, { '2xx': 2, '3xx': 0, '4xx': 1, '5xx': 1, error: 0 }], 'both targets added into one release');
    assert.equal(r1.latency.counts.reduce((a, b) => a + b, 0), 4);
    assert.equal(proxy.stats().targets.a1, undefined, 'its targets are gone');
    assert.equal(release(proxy, 'r2')!.requests, 1);

    now += RELEASE_FORGET_MS - 60_000;
    assert.ok(release(proxy, 'r1'), 'kept within the hour');
    now += 120_000;
    assert.equal(release(proxy, 'r1'), undefined, 'forgotten after it');
    assert.ok(release(proxy, 'r2'), 'a release the table names is kept however idle');
  });

  test('a request to a release that comes back restarts its hour', async () => {
    const port = proxy.address.port;
    proxy.apply(tableFor('back', ['back.localhost'], [{ id: 'c1', release: 'rc', address: up.address }]));
    await request({ port, host: 'back.localhost' });
    proxy.apply(tableFor('back', ['back.localhost'], []));
    now += RELEASE_FORGET_MS - 1000;
    proxy.apply(tableFor('back', ['back.localhost'], [{ id: 'c2', release: 'rc', address: up.address }]));
    await request({ port, host: 'back.localhost' });
    proxy.apply(tableFor('back', ['back.localhost'], []));
    now += RELEASE_FORGET_MS - 1000;
    assert.equal(release(proxy, 'rc')?.requests, 2, 'the second request counted into the same release, an hour not yet up');
  });

  test('refused connections are upstream errors, each attempt on another instance a retry', async () => {
    const refused = [await refusedAddress(), await refusedAddress()];
    proxy.apply(tableFor('down', ['down.localhost'], refused.map((address, i) => ({ id: `d${i}`, release: 'rd', address }))));
    const reply = await request({ port: proxy.address.port, host: 'down.localhost' });
    assert.equal(reply.status, 502);
    const rd = release(proxy, 'rd')!;
    assert.deepEqual([rd.upstreamErrors, rd.retries, rd.requests, rd.status.error], [2, 1, 1, 1]);
  });

  test('a keep-alive connection the app closed under a request: an upstream error, and the request sent again', async () => {
    const closing = await startClosingUpstream();
    try {
      proxy.apply(tableFor('race', ['race.localhost'], [{ id: 'k1', release: 'rk', address: closing.address }]));
      assert.equal((await request({ port: proxy.address.port, host: 'race.localhost' })).body, 'ok');
      assert.equal((await request({ port: proxy.address.port, host: 'race.localhost' })).body, 'ok', 'replayed on a new connection');
      const rk = release(proxy, 'rk')!;
      assert.deepEqual([rk.requests, rk.status['2xx'], rk.upstreamErrors, rk.retries], [2, 2, 1, 1]);
    } finally {
      await closing.close();
    }
  });

  test('WebSockets: open now and opened since the start, per release', async () => {
    proxy.apply(tableFor('ws', ['127.0.0.1'], [{ id: 'w1', release: 'rw', address: up.address }]));
    const ws = new WebSocket(`ws://127.0.0.1:${proxy.address.port}/ws`);
    await new Promise((resolve, reject) => {
      ws.addEventListener('open', resolve);
      ws.addEventListener('error', reject);
    });
    assert.deepEqual([release(proxy, 'rw')!.websockets, release(proxy, 'rw')!.websocketsOpened], [1, 1]);
    const closed = new Promise((resolve) => ws.addEventListener('close', resolve));
    ws.close();
    await closed;
    for (let i = 0; i < 50 && release(proxy, 'rw')!.websockets !== 0; i++) await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual([release(proxy, 'rw')!.websockets, release(proxy, 'rw')!.websocketsOpened], [0, 1]);
  });
});

describe('proxy: per-release counters over HTTP/2', () => {
  test('requests, upstream errors and retries counted as on HTTP/1', async () => {
    const proxy = await startH2Proxy();
    const up = await startUpstream('up');
    const session = h2Client(proxy);
    try {
      proxy.routes.apply(tableFor('app', ['app.localhost'], [{ id: 'h0', release: 'rh', address: await refusedAddress() }, { id: 'h1', release: 'rh', address: up.address }]));
      for (let i = 0; i < 4; i++) assert.equal((await h2Request(session, { ':path': '/' })).status, 200);
      const rh = proxy.routes.releaseStats().find((r) => r.release === 'rh')!;
      assert.equal(rh.requests, 4);
      assert.equal(rh.status['2xx'], 4);
      // The refused instance is tried at most once before it is marked down for a moment.
      assert.ok(rh.upstreamErrors >= 1 && rh.retries === rh.upstreamErrors, `${rh.upstreamErrors} upstream errors, ${rh.retries} retries`);
    } finally {
      session.close();
      await proxy.close();
      await up.close();
    }
  });
});
