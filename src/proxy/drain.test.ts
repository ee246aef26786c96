import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { request, waitFor } from '../../test/support/http.ts';
import { startProxyServer, type ProxyServer } from './server.ts';
import { startUpstream, tableFor, type TestUpstream } from './upstream.test-support.ts';

describe('proxy: switching releases and draining', () => {
  let proxy: ProxyServer;
  let old: TestUpstream;
  let next: TestUpstream;
  const slow = (name: string) => (req: { url?: string }, res: { end: (s: string) => void }) => {
    const delay = Number(new URL(req.url!, 'http://x').searchParams.get('delay') ?? 0);
    setTimeout(() => res.end(JSON.stringify({ name })), delay);
  };
  before(async () => {
    proxy = await startProxyServer({ host: '127.0.0.1', port: 0 });
    old = await startUpstream('old', slow('old'));
    next = await startUpstream('new', slow('new'));
  });
  after(async () => {
    await proxy.close(100);
    await old.close();
    await next.close();
  });

  test('a request in flight at the switch completes on the old release; new ones go to the new release', async () => {
    proxy.apply(tableFor('app', ['app.localhost'], [{ id: 'old1', release: 'v1', address: old.address }], 5000));
    const inflight = request({ port: proxy.address.port, host: 'app.localhost', path: '/?delay=1500' });
    await waitFor('the slow request to reach the old release', () => proxy.stats().targets.old1?.inflight === 1);
    proxy.apply(tableFor('app', ['app.localhost'], [{ id: 'new1', release: 'v2', address: next.address }], 5000));
    assert.equal(proxy.stats().targets.old1.state, 'removed');
    for (let i = 0; i < 5; i++) {
      assert.equal(JSON.parse((await request({ port: proxy.address.port, host: 'app.localhost' })).body).name, 'new');
    }
    const reply = await inflight;
    assert.equal(reply.status, 200);
    assert.equal(JSON.parse(reply.body).name, 'old');
    await waitFor('the drained target to be forgotten', () => proxy.stats().targets.old1 === undefined);
  });

  test('a request still running at the drain timeout is cut', async () => {
    proxy.apply(tableFor('app', ['app.localhost'], [{ id: 'old2', release: 'v1', address: old.address }], 300));
    const inflight = request({ port: proxy.address.port, host: 'app.localhost', path: '/?delay=3000' }).then(
      (r) => r.status,
      () => 'cut',
    );
    await waitFor('the slow request to start', () => proxy.stats().targets.old2?.inflight === 1);
    const switchedAt = Date.now();
    proxy.apply(tableFor('app', ['app.localhost'], [{ id: 'new2', release: 'v2', address: next.address }], 300));
    const outcome = await inflight;
    assert.ok(outcome === 'cut' || outcome === 502, `got ${outcome}`);
    assert.ok(Date.now() - switchedAt < 2500, 'cut at the drain timeout, not when the app finished');
  });

  test('a draining target listed as such keeps its in-flight work and gets no new requests', async () => {
    proxy.apply(tableFor('app', ['app.localhost'], [{ id: 'o3', release: 'v1', address: old.address }], 5000));
    const inflight = request({ port: proxy.address.port, host: 'app.localhost', path: '/?delay=500' });
    await waitFor('in flight', () => proxy.stats().targets.o3?.inflight === 1);
    proxy.apply(tableFor('app', ['app.localhost'], [{ id: 'o3', release: 'v1', address: old.address, state: 'draining' }, { id: 'n3', release: 'v2', address: next.address }], 5000));
    assert.equal(JSON.parse((await request({ port: proxy.address.port, host: 'app.localhost' })).body).name, 'new');
    assert.equal(JSON.parse((await inflight).body).name, 'old');
    const stats = proxy.stats().targets.o3;
    assert.equal(stats.state, 'draining');
    assert.equal(stats.inflight, 0);
  });

  test('a rollback re-activates a draining target at once', async () => {
    proxy.apply(tableFor('app', ['app.localhost'], [{ id: 'o4', release: 'v1', address: old.address, state: 'draining' }, { id: 'n4', release: 'v2', address: next.address }]));
    proxy.apply(tableFor('app', ['app.localhost'], [{ id: 'o4', release: 'v1', address: old.address }]));
    assert.equal(JSON.parse((await request({ port: proxy.address.port, host: 'app.localhost' })).body).name, 'old');
  });

  test('an open WebSocket keeps working after the switch, then gets a 1001 close frame at the drain timeout', async () => {
    proxy.apply(tableFor('ws', ['127.0.0.1'], [{ id: 'wsold', release: 'v1', address: old.address }], 800));
    const ws = new WebSocket(`ws://127.0.0.1:${proxy.address.port}/ws`);
    const messages: string[] = [];
    ws.addEventListener('message', (e) => messages.push(String(e.data)));
    const closed = new Promise<{ code: number; at: number }>((resolve) => ws.addEventListener('close', (e) => resolve({ code: e.code, at: Date.now() })));
    await new Promise((resolve, reject) => {
      ws.addEventListener('open', resolve);
      ws.addEventListener('error', reject);
    });
    ws.send('before');
    await waitFor('echo before the switch', () => messages.includes('old:before'));
    assert.equal(proxy.stats().targets.wsold.websockets, 1);

    proxy.apply(tableFor('ws', ['127.0.0.1'], [{ id: 'wsnew', release: 'v2', address: next.address }], 800));
    const switchedAt = Date.now();
    ws.send('during');
    await waitFor('echo during the drain', () => messages.includes('old:during'));
    const { code, at } = await closed;
    assert.equal(code, 1001);
    assert.ok(at - switchedAt >= 700, `closed after ${at - switchedAt} ms, before the drain timeout`);
    await waitFor('the old target to be forgotten', () => proxy.stats().targets.wsold === undefined);

    const fresh = new WebSocket(`ws://127.0.0.1:${proxy.address.port}/ws`);
    const got = new Promise<string>((resolve) => fresh.addEventListener('message', (e) => resolve(String(e.data))));
    await new Promise((resolve) => fresh.addEventListener('open', resolve));
    fresh.send('hi');
    assert.equal(await got, 'new:hi');
    fresh.close();
  });
});

describe('proxy: stopping', () => {
  test('a request awaiting its response when the proxy stops still gets it, with Connection: close', async () => {
    const proxy = await startProxyServer({ host: '127.0.0.1', port: 0 });
    const upstream = await startUpstream('up', (_req, res) => setTimeout(() => res.end('late'), 300));
    try {
      proxy.apply(tableFor('app', ['app.localhost'], [{ id: 'u1', address: upstream.address }]));
      const inflight = request({ port: proxy.address.port, host: 'app.localhost', path: '/' });
      await waitFor('the request to reach the upstream', () => proxy.stats().targets.u1?.inflight === 1);
      const stopped = proxy.close(5_000);
      const reply = await inflight;
      assert.equal(reply.status, 200);
      assert.equal(reply.body, 'late');
      assert.equal(reply.headers.connection, 'close');
      await stopped;
      assert.equal(proxy.stats().connections, 0);
    } finally {
      await upstream.close();
    }
  });
});
