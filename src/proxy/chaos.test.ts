/**
 * `berth chaos` in the proxy through real sockets: slow requests wait (a lower bound only), an error
 * ratio holds within a binomial tolerance, a client leaving mid-wait frees everything, a rule scoped to a
 * release spares the others, an expired rule is ignored by the proxy itself; the same over HTTP/2.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Agent } from 'node:http';
import { connect } from 'node:net';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request, waitFor } from '../../test/support/http.ts';
import { ACCESS_LOG_CURRENT, parseAccessLine, type AccessEntry } from '../dataplane/access-log.ts';
import type { ChaosRule, RouteTable } from '../dataplane/route-table.ts';
import { routeTableProblems } from '../dataplane/validate-table.ts';
import { chaosAction } from './chaos.ts';
import { h2Client, h2Request, startH2Proxy } from './http2/h2.test-support.ts';
import { startProxyServer, type ProxyServer } from './server.ts';
import { startUpstream, tableFor, type TestUpstream } from './upstream.test-support.ts';

const HOUR = 3600_000;

function withChaos(table: RouteTable, app: string, chaos: ChaosRule | null): RouteTable {
  table.apps[app].chaos = chaos;
  return table;
}

describe('proxy chaos over HTTP/1', () => {
  let proxy: ProxyServer;
  let a: TestUpstream;
  let b: TestUpstream;
  let dir: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'berth-chaos-'));
    proxy = await startProxyServer({ host: '127.0.0.1', port: 0, accessLog: { dir, maxFileBytes: 1024 * 1024, keepDays: 1, flushMs: 10 } });
    a = await startUpstream('a');
    b = await startUpstream('b');
  });
  after(async () => {
    await proxy.close(100);
    await a.close();
    await b.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const port = () => proxy.address.port;

  test('slow: each request waits the latency, then is forwarded', async () => {
    proxy.apply(withChaos(tableFor('slowapp', ['slow.localhost'], [{ address: a.address }]), 'slowapp', { mode: 'slow', latencyMs: 300, release: null, until: Date.now() + HOUR }));
    const before = a.requests.length;
    const started = performance.now();
    const reply = await request({ port: port(), host: 'slow.localhost', path: '/s' });
    const took = performance.now() - started;
    assert.equal(reply.status, 200);
    assert.equal(JSON.parse(reply.body).name, 'a');
    assert.ok(took >= 290, `waited ${took} ms`);
    assert.equal(a.requests.length, before + 1);
  });

  test('error: a ratio of requests answered by the proxy, within a binomial tolerance; counted and logged as what they are', async () => {
    proxy.apply(withChaos(tableFor('errapp', ['err.localhost'], [{ id: 'te', release: 'v7', address: a.address }]), 'errapp', { mode: 'error', status: 503, ratio: 0.3, release: null, until: Date.now() + HOUR }));
    const agent = new Agent({ keepAlive: true, maxSockets: 4 });
    const before = a.requests.length;
    const N = 400;
    let failed = 0;
    try {
      for (let i = 0; i < N; i++) {
        const reply = await request({ port: port(), host: 'err.localhost', path: `/e${i}`, agent });
        if (reply.status === 503) {
          failed++;
          assert.equal(reply.headers['x-berth-error'], 'chaos');
          assert.match(reply.body, /simulated outage/);
        } else assert.equal(reply.status, 200);
      }
    } finally {
      agent.destroy();
    }
    // 0.3 * 400 = 120, sd = sqrt(400 * 0.3 * 0.7) ~ 9.2: 5 sd either side.
    assert.ok(failed >= 74 && failed <= 166, `${failed} of ${N} failed`);
    assert.equal(a.requests.length - before, N - failed, 'a failed request is never forwarded');
    const stats = proxy.stats();
    assert.equal(stats.targets.te.status['5xx'], failed, 'counted as 5xx, not as a proxy error');
    assert.equal(stats.targets.te.status.error, 0);
    const release = stats.releases.find((r) => r.app === 'errapp' && r.release === 'v7')!;
    assert.equal(release.status['5xx'], failed);
    const lines = await waitFor('the access log lines', () => {
      const entries = readFileSync(join(dir, ACCESS_LOG_CURRENT), 'utf8').split('\n').map(parseAccessLine).filter((e): e is AccessEntry => e !== null && e.app === 'errapp');
      return entries.length === N ? entries : null;
    });
    const marked = lines.filter((e) => e.chaos === true);
    assert.equal(marked.length, failed);
    assert.ok(marked.every((e) => e.status === 503 && e.release === 'v7'));
    assert.ok(lines.filter((e) => e.status === 200).every((e) => !('chaos' in e)), 'absent when not set');
  });

  test('a client that leaves during the wait: nothing forwarded, nothing left in flight', async () => {
    proxy.apply(withChaos(tableFor('gone', ['gone.localhost'], [{ id: 'tg', address: b.address }]), 'gone', { mode: 'slow', latencyMs: 600, release: null, until: Date.now() + HOUR }));
    const before = b.requests.length;
    const socket = connect(port(), '127.0.0.1');
    await new Promise<void>((r) => socket.once('connect', () => r()));
    socket.write('GET /leave HTTP/1.1\r\nHost: gone.localhost\r\n\r\n');
    await waitFor('the request in flight', () => proxy.stats().targets.tg?.inflight === 1);
    socket.resetAndDestroy(); // gone for good (a FIN alone is a half-close: the answer is still wanted)
    await waitFor('nothing in flight', () => proxy.stats().targets.tg.inflight === 0, 300);
    await new Promise((r) => setTimeout(r, 800));
    assert.equal(b.requests.length, before, 'the timer was cleared: never forwarded');
  });

  test('scoped to a release: only its targets are touched', async () => {
    const table = tableFor('two', ['two.localhost'], [
      { id: 'old', release: 'v1', address: a.address },
      { id: 'new', release: 'v2', address: b.address },
    ]);
    proxy.apply(withChaos(table, 'two', { mode: 'error', status: 500, ratio: 1, release: 'v2', until: Date.now() + HOUR }));
    const seen = { ok: 0, failed: 0 };
    for (let i = 0; i < 40; i++) {
      const reply = await request({ port: port(), host: 'two.localhost' });
      if (reply.status === 500) seen.failed++;
      else {
        assert.equal(JSON.parse(reply.body).name, 'a', 'v2 never answers');
        seen.ok++;
      }
    }
    assert.ok(seen.ok > 0 && seen.failed > 0, JSON.stringify(seen));
    assert.equal(seen.ok + seen.failed, 40);
  });

  test('expiry: the proxy ignores a rule past its until by itself', async () => {
    const until = Date.now() + 300;
    proxy.apply(withChaos(tableFor('brief', ['brief.localhost'], [{ address: a.address }]), 'brief', { mode: 'error', status: 429, ratio: 1, release: null, until }));
    assert.equal((await request({ port: port(), host: 'brief.localhost' })).status, 429);
    await new Promise((r) => setTimeout(r, Math.max(0, until - Date.now()) + 20));
    assert.equal((await request({ port: port(), host: 'brief.localhost' })).status, 200);
  });
});

test('proxy chaos over HTTP/2: failed and slowed streams, logged with chaos', async () => {
  const entries: AccessEntry[] = [];
  const proxy = await startH2Proxy({ accessLog: { add: (e) => entries.push(e) } });
  const up = await startUpstream('up', (_req, res) => res.end('fine'));
  const session = h2Client(proxy);
  try {
    proxy.routes.apply(withChaos(tableFor('h2app', ['app.localhost'], [{ id: 'i1', release: 'v4', address: up.address }]), 'h2app', { mode: 'error', status: 502, ratio: 1, release: null, until: Date.now() + HOUR }));
    const failed = await h2Request(session, { ':path': '/f' });
    assert.equal(failed.status, 502);
    assert.equal(failed.headers['x-berth-error'], 'chaos');
    assert.match(failed.body.toString(), /simulated outage/);
    assert.equal(up.requests.length, 0, 'never forwarded');
    proxy.routes.apply(withChaos(tableFor('h2app', ['app.localhost'], [{ id: 'i1', release: 'v4', address: up.address }]), 'h2app', { mode: 'slow', latencyMs: 250, release: 'v4', until: Date.now() + HOUR }));
    const started = performance.now();
    const slowed = await h2Request(session, { ':path': '/s' });
    assert.ok(performance.now() - started >= 240);
    assert.equal(slowed.body.toString(), 'fine');
    assert.deepEqual(entries.map((e) => [e.path, e.status, e.release, e.chaos]), [['/f', 502, 'v4', true], ['/s', 200, 'v4', true]]);
  } finally {
    session.close();
    await proxy.close();
    await up.close();
  }
});

test('chaosAction: expiry, release scope and the ratio on an injected clock and random', () => {
  const error: ChaosRule = { mode: 'error', status: 503, ratio: 0.5, release: 'v2', until: 1000 };
  assert.equal(chaosAction(error, 'x', 'v2', 1000, () => 0), null, 'expired at until');
  assert.equal(chaosAction(error, 'x', 'v1', 10, () => 0), null, 'another release');
  assert.equal(chaosAction(error, 'x', 'v2', 10, () => 0.5), null, 'not picked');
  assert.equal(chaosAction(error, 'x', 'v2', 10, () => 0.49)?.fail?.status, 503);
  assert.deepEqual(chaosAction({ mode: 'slow', latencyMs: 7, release: null, until: 20 }, 'x', 'v9', 10), { delayMs: 7, fail: null });
});

test('a table with a chaos rule out of range is refused, each field named', () => {
  const table = (chaos: unknown) => ({ generation: 1, apps: { a: { hosts: ['a.localhost'], targets: [], drainTimeoutMs: 0, chaos } } });
  assert.deepEqual(routeTableProblems(table(null)), []);
  assert.deepEqual(routeTableProblems(table({ mode: 'slow', latencyMs: 5, release: null, until: 1 })), []);
  assert.match(routeTableProblems(table({ mode: 'slow', latencyMs: 60_001, release: null, until: 1 })).join(), /chaos\.latencyMs/);
  assert.match(routeTableProblems(table({ mode: 'error', status: 404, ratio: 0.5, release: null, until: 1 })).join(), /chaos\.status/);
  assert.match(routeTableProblems(table({ mode: 'error', status: 503, ratio: 0, release: null, until: 1 })).join(), /chaos\.ratio/);
  assert.match(routeTableProblems(table({ mode: 'boom', release: null, until: 1 })).join(), /chaos\.mode/);
  assert.match(routeTableProblems(table({ mode: 'slow', latencyMs: 5, release: 3, until: 'x' })).join(), /chaos\.release.*chaos\.until/);
});
