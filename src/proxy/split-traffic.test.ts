/**
 * A canary split through the real proxy, real upstreams on 127.0.0.1: the share of clients per side, a
 * client keeping its side (cookie or address), fallbacks when a side cannot serve, the split cookie set
 * once and only when needed, hostile Cookie fields, per-release counts (TLS and HTTP/2: split-tls.test.ts).
 *
 * Why the 90/10 bounds cannot flake: the clients are fixed (1000 loopback addresses, or 1000 cookies from a
 * seeded generator) and the bucket of each is a fixed function of it, so every run sends the same clients
 * to the same sides. The test checks each client's side against that function exactly, and the total
 * against mean ± 5 sd of Binomial(1000, 0.1) (100 ± 47): the spread a fair coin would give.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Agent } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { unixRequest } from '../lib/unix-http.ts';
import { startAdmin } from './admin.ts';
import { request, type Reply } from '../../test/support/http.ts';
import type { CanarySplit, RouteTable, Target } from '../dataplane/route-table.ts';
import { startProxyServer, type ProxyServer } from './server.ts';
import { addressBucket } from './split.ts';
import { startUpstream, type TestUpstream } from './upstream.test-support.ts';

const N = 1000;
const LOW = 53;
const HIGH = 147;

let generation = 1000;
function splitTable(hosts: string[], targets: Partial<Target>[], split: CanarySplit | null): RouteTable {
  const full = targets.map((t, i) => ({ id: t.id ?? `t${i}`, release: t.release ?? 'v1', address: t.address!, weight: t.weight ?? 1, state: t.state ?? 'active' }));
  return { generation: ++generation, apps: { app: { hosts, drainTimeoutMs: 2000, targets: full, split } } };
}

const nameOf = (reply: Reply): string => JSON.parse(reply.body).name;
const setCookies = (reply: { headers: Record<string, unknown> }): string[] => (reply.headers['set-cookie'] as string[] | undefined) ?? [];
const splitCookies = (reply: { headers: Record<string, unknown> }) => setCookies(reply).filter((c) => c.startsWith('berth_split='));
const bucketIn = (line: string) => Number(/^berth_split=(\d+);/.exec(line)![1]);

/** A seeded generator (LCG): the same "random" cookies every run. */
function lcg(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

/** A loopback address (not 127.0.0.1) whose bucket satisfies `wanted`. */
function addressWhere(wanted: (bucket: number) => boolean): string {
  for (let i = 2; i < 250; i++) if (wanted(addressBucket(`127.0.9.${i}`))) return `127.0.9.${i}`;
  throw new Error('no such address');
}

describe('canary split over HTTP/1', () => {
  let proxy: ProxyServer;
  let stable: TestUpstream;
  let canary: TestUpstream;
  const host = 'app.localhost';
  before(async () => {
    proxy = await startProxyServer({ host: '127.0.0.1', port: 0 });
    stable = await startUpstream('stable');
    canary = await startUpstream('canary', (_req, res) => {
      // An app with cookies of its own: they must reach the client untouched, next to the proxy's.
      res.setHeader('set-cookie', ['session=abc; Path=/', 'theme=dark']);
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ name: 'canary' }));
    });
  });
  after(async () => {
    await proxy.close(100);
    await stable.close();
    await canary.close();
  });
  const port = () => proxy.address.port;
  const apply = (split: CanarySplit | null, targets?: Partial<Target>[]) =>
    assert.ok(proxy.apply(splitTable([host], targets ?? [{ id: 's1', release: 'v1', address: stable.address }, { id: 'c1', release: 'v2', address: canary.address }], split)));
  const releaseRequests = (release: string) => proxy.stats().releases.find((r) => r.app === 'app' && r.release === release)?.requests ?? 0;

  test("an invalid split is refused on the control socket, naming the field, and the table in use serves on", async () => {
    apply({ release: 'v2', percent: 0, sticky: 'cookie' });
    const dir = mkdtempSync(join(tmpdir(), 'berth-split-admin-'));
    const socketPath = join(dir, 'proxy.sock');
    const admin = await startAdmin({ socketPath, proxy, onApply: () => {}, onCertificates: () => {}, onStop: () => {} });
    try {
      const bad = splitTable([host], [{ id: 'c1', release: 'v2', address: canary.address }], { release: 'v2', percent: 150, sticky: 'ip' as 'cookie' });
      const reply = await unixRequest<{ error: { code: string; message: string } }>(socketPath, 'PUT', '/routes', bad);
      assert.equal(reply.status, 400);
      assert.equal(reply.body.error.code, 'ROUTES_INVALID');
      assert.match(reply.body.error.message, /apps\.app\.split\.percent must be an integer from 0 to 100/);
      assert.match(reply.body.error.message, /apps\.app\.split\.sticky must be cookie or address/);
      assert.equal(nameOf(await request({ port: port(), host })), 'stable', 'the split in use (0 %) still decides');
    } finally {
      await new Promise<void>((r) => admin.close(() => r()));
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('90/10, 1000 new clients at distinct addresses: each on the side of its bucket, the cookie set to it; counted per release', async () => {
    apply({ release: 'v2', percent: 10, sticky: 'cookie' });
    const before = { v1: releaseRequests('v1'), v2: releaseRequests('v2') };
    let onCanary = 0;
    for (let i = 0; i < N; i++) {
      const localAddress = `127.0.${1 + Math.floor(i / 250)}.${1 + (i % 250)}`;
      const reply = await request({ port: port(), host, localAddress });
      const bucket = addressBucket(localAddress);
      const side = nameOf(reply);
      assert.equal(side, bucket < 10 ? 'canary' : 'stable', `${localAddress} (bucket ${bucket})`);
      const ours = splitCookies(reply);
      assert.deepEqual(ours, [`berth_split=${bucket}; Path=/; Max-Age=604800; HttpOnly; SameSite=Lax`], 'set once, no Secure over plain HTTP');
      if (side === 'canary') onCanary++;
    }
    assert.ok(onCanary >= LOW && onCanary <= HIGH, `${onCanary} of ${N} on the canary`);
    assert.deepEqual({ v1: releaseRequests('v1') - before.v1, v2: releaseRequests('v2') - before.v2 }, { v1: N - onCanary, v2: onCanary });
  });

  test('90/10, 1000 requests with distinct cookies (seeded): the cookie decides, nothing is set', async () => {
    apply({ release: 'v2', percent: 10, sticky: 'cookie' });
    const random = lcg(12);
    const agent = new Agent({ keepAlive: true, maxSockets: 4 });
    let onCanary = 0;
    try {
      for (let i = 0; i < N; i++) {
        const bucket = Math.floor(random() * 100);
        const reply = await request({ port: port(), host, agent, headers: { cookie: `other=${i}; berth_split=${bucket}` } });
        assert.equal(nameOf(reply), bucket < 10 ? 'canary' : 'stable', `bucket ${bucket}`);
        assert.deepEqual(splitCookies(reply), []);
        if (nameOf(reply) === 'canary') onCanary++;
      }
    } finally {
      agent.destroy();
    }
    assert.ok(onCanary >= LOW && onCanary <= HIGH, `${onCanary} of ${N} on the canary`);
  });

  test('the same cookie always lands on the same side, over new and reused connections', async () => {
    apply({ release: 'v2', percent: 10, sticky: 'cookie' });
    const agent = new Agent({ keepAlive: true, maxSockets: 2 });
    try {
      for (const [bucket, side] of [[3, 'canary'], [10, 'stable'], [77, 'stable']] as const) {
        for (let i = 0; i < 20; i++) {
          const reply = await request({ port: port(), host, agent: i % 2 ? agent : false, headers: { cookie: `berth_split=${bucket}` } });
          assert.equal(nameOf(reply), side, `bucket ${bucket}, request ${i}`);
        }
      }
    } finally {
      agent.destroy();
    }
  });

  test('address mode: one client goes all one side, its bucket decides, no cookie read or set', async () => {
    const onCanary = addressWhere((b) => b < 50);
    const onStable = addressWhere((b) => b >= 50);
    apply({ release: 'v2', percent: 50, sticky: 'address' });
    for (const [localAddress, side] of [[onCanary, 'canary'], [onStable, 'stable']]) {
      for (let i = 0; i < 30; i++) {
        const reply = await request({ port: port(), host, localAddress, headers: { cookie: `berth_split=${side === 'canary' ? 99 : 0}` } });
        assert.equal(nameOf(reply), side);
        assert.deepEqual(splitCookies(reply), []);
      }
    }
  });

  test('0 %: everyone on stable, cookie or not', async () => {
    apply({ release: 'v2', percent: 0, sticky: 'cookie' });
    for (const cookie of ['berth_split=0', 'berth_split=9', undefined]) {
      for (let i = 0; i < 10; i++) assert.equal(nameOf(await request({ port: port(), host, headers: cookie ? { cookie } : {} })), 'stable', String(cookie));
    }
  });

  test('a client on the canary at 10 % stays on it at 50 %; one on stable at 10 % may move, never back', async () => {
    const early = addressWhere((b) => b < 10);
    const later = addressWhere((b) => b >= 10 && b < 50);
    apply({ release: 'v2', percent: 10, sticky: 'cookie' });
    const first = await request({ port: port(), host, localAddress: early });
    assert.equal(nameOf(first), 'canary');
    const cookie = splitCookies(first)[0].split(';')[0];
    const second = await request({ port: port(), host, localAddress: later });
    assert.equal(nameOf(second), 'stable');
    const cookie2 = splitCookies(second)[0].split(';')[0];
    apply({ release: 'v2', percent: 50, sticky: 'cookie' });
    // From another address now: the cookie, not the address, keeps the side.
    for (let i = 0; i < 10; i++) {
      assert.equal(nameOf(await request({ port: port(), host, headers: { cookie } })), 'canary');
      assert.equal(nameOf(await request({ port: port(), host, headers: { cookie: cookie2 } })), 'canary');
    }
  });

  test('canary targets refusing connections: their clients are served by stable', async () => {
    apply({ release: 'v2', percent: 100, sticky: 'cookie' }, [{ id: 's1', release: 'v1', address: stable.address }, { id: 'cx', release: 'v2', address: '127.0.0.1:9' }]);
    for (let i = 0; i < 10; i++) {
      const reply = await request({ port: port(), host, headers: { cookie: 'berth_split=1' } });
      assert.equal(reply.status, 200);
      assert.equal(nameOf(reply), 'stable');
    }
    const v2 = proxy.stats().releases.find((r) => r.release === 'v2')!;
    assert.ok(v2.upstreamErrors >= 1, 'the refused canary was tried, then marked down');
  });

  test('stable draining, canary active: the canary serves everyone', async () => {
    apply({ release: 'v2', percent: 10, sticky: 'cookie' }, [{ id: 's1', release: 'v1', address: stable.address, state: 'draining' }, { id: 'c1', release: 'v2', address: canary.address }]);
    for (const cookie of ['berth_split=50', 'berth_split=2']) assert.equal(nameOf(await request({ port: port(), host, headers: { cookie } })), 'canary');
  });

  test("the split cookie: after the app's own, once; not when the client has one; not without a split", async () => {
    apply({ release: 'v2', percent: 100, sticky: 'cookie' });
    const fresh = await request({ port: port(), host });
    assert.equal(nameOf(fresh), 'canary');
    const all = setCookies(fresh);
    assert.deepEqual(all.slice(0, 2), ['session=abc; Path=/', 'theme=dark'], "the app's cookies untouched, first");
    assert.equal(all.length, 3);
    assert.match(all[2], /^berth_split=\d{1,2}; Path=\/; Max-Age=604800; HttpOnly; SameSite=Lax$/);
    const returning = await request({ port: port(), host, headers: { cookie: 'session=abc; berth_split=4' } });
    assert.deepEqual(setCookies(returning), ['session=abc; Path=/', 'theme=dark']);
    apply(null);
    for (let i = 0; i < 4; i++) assert.deepEqual(splitCookies(await request({ port: port(), host })), [], 'no split, no cookie');
  });

  test('hostile Cookie fields never hurt the proxy: an invalid split cookie is replaced, a valid first one kept', async () => {
    apply({ release: 'v2', percent: 10, sticky: 'cookie' });
    const own = addressBucket('127.0.0.1');
    const ownSide = own < 10 ? 'canary' : 'stable';
    const pairs = Array.from({ length: 500 }, (_, i) => `c${i}=v`).join('; ');
    const cases: [string, number | null][] = [
      ['x'.repeat(10 * 1024), own],
      [pairs, own],
      [`${pairs}; berth_split=3`, null],
      ['berth_split=999', own],
      ['berth_split=-1', own],
      ['berth_split=1e2', own],
      ['berth_split=05', own],
      ['berth_split=3; berth_split=50', null],
      ['berth_split=50; berth_split=3', null],
      ['berth_split=; berth_split', own],
      [`${'berth_split='.repeat(1000)}`, own],
    ];
    for (const [cookie, setTo] of cases) {
      const reply = await request({ port: port(), host, headers: { cookie } });
      assert.equal(reply.status, 200, cookie.slice(0, 40));
      if (setTo === null) assert.deepEqual(splitCookies(reply), [], cookie.slice(0, 40));
      else {
        assert.deepEqual(splitCookies(reply).map(bucketIn), [setTo], cookie.slice(0, 40));
        assert.equal(nameOf(reply), ownSide);
      }
    }
    assert.equal(nameOf(await request({ port: port(), host, headers: { cookie: 'berth_split=50; berth_split=3' } })), 'stable', 'the first valid one counts');
    // Several Cookie fields over HTTP/1.1 (RFC 6265 says one; clients send more): each is read.
    const raw = await rawGet(port(), ['Cookie: a=1', 'Cookie: berth_split=2']);
    assert.match(raw, /"name":"canary"/);
    assert.doesNotMatch(raw, /berth_split=/);
    const huge = await request({ port: port(), host, headers: { cookie: 'x'.repeat(40 * 1024) } });
    assert.equal(huge.status, 431, 'a head over the limit is refused before anything reads its cookies');
    assert.equal((await request({ port: port(), host })).status, 200, 'and the proxy serves on');
  });
});

/** One GET with the given extra header lines, on a raw socket (node's client joins repeated Cookie headers). */
async function rawGet(port: number, lines: string[]): Promise<string> {
  const { connect } = await import('node:net');
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let out = '';
    socket.setEncoding('latin1');
    socket.on('data', (d: string) => (out += d));
    socket.on('error', reject);
    socket.on('close', () => resolve(out));
    socket.write(`GET / HTTP/1.1\r\nHost: app.localhost\r\n${lines.join('\r\n')}\r\nConnection: close\r\n\r\n`);
  });
}
