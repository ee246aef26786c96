/**
 * The canary split's pure parts: buckets from addresses and cookies (hostile Cookie fields included), the
 * side of a request, and the picking among one side's targets in the live routes (no sockets: targets at
 * addresses nothing is asked of). The traffic through a real proxy is in split-traffic.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { CanarySplit, RouteTable, Target } from '../dataplane/route-table.ts';
import { Routes, type AppRuntime } from './live-routes.ts';
import { defaultPoolOptions } from './server.ts';
import { addressBucket, cookieBucket, COOKIE_SCAN_LIMIT, splitCookie, splitSide } from './split.ts';

const cookie = (value: string) => cookieBucket(['Cookie'], [value]);

test('an address always falls in the same bucket 0..99, and addresses spread over all buckets', () => {
  assert.equal(addressBucket('203.0.113.7'), addressBucket('203.0.113.7'));
  const counts = new Array<number>(100).fill(0);
  // 10,000 neighbouring addresses: 100 per bucket if the hash were uniform (sd ~ 9.95).
  for (let i = 0; i < 10_000; i++) counts[addressBucket(`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`)]++;
  assert.ok(counts.every((n) => n >= 50 && n <= 150), `per-bucket counts from ${Math.min(...counts)} to ${Math.max(...counts)}`);
  for (const ip of ['::1', '2001:db8::1', '', '127.0.0.1']) {
    const b = addressBucket(ip);
    assert.ok(Number.isInteger(b) && b >= 0 && b < 100, `${ip} -> ${b}`);
  }
});

test('the split cookie is read only when it holds 0..99 exactly as the proxy writes it', () => {
  assert.equal(cookie('berth_split=0'), 0);
  assert.equal(cookie('berth_split=7'), 7);
  assert.equal(cookie('berth_split=99'), 99);
  assert.equal(cookie('a=1; berth_split=42; b=2'), 42);
  assert.equal(cookie('a=1;berth_split=42'), 42, 'no space after the semicolon');
  for (const bad of ['berth_split=999', 'berth_split=100', 'berth_split=-1', 'berth_split=1e2', 'berth_split=05', 'berth_split=', 'berth_split', 'berth_split="5"', 'berth_split=5x', 'berth_split=0x1', 'berth_split =5', 'xberth_split=5', 'berth_splitx=5', 'a=berth_split=5', '']) {
    assert.equal(cookie(bad), -1, bad);
  }
  assert.equal(cookieBucket(['COOKIE'], ['berth_split=3']), 3, 'field names in any case (HTTP/1)');
  assert.equal(cookieBucket(['cookie', 'cookie'], ['a=1', 'berth_split=8']), 8, 'a second Cookie field is read too');
  assert.equal(cookieBucket(['x-cookie'], ['berth_split=3']), -1, 'only Cookie fields');
});

test('duplicates: the first valid value counts; invalid ones before it are skipped', () => {
  assert.equal(cookie('berth_split=5; berth_split=50'), 5);
  assert.equal(cookie('berth_split=999; berth_split=7'), 7);
  assert.equal(cookie('berth_split=-1; berth_split=1e2; berth_split=12'), 12);
});

test('hostile Cookie fields: large, many pairs, or the name repeated, are read in bounded time and never throw', () => {
  const pairs = Array.from({ length: 500 }, (_, i) => `c${i}=${'v'.repeat(10)}`).join('; ');
  assert.equal(cookie(pairs), -1);
  assert.equal(cookie(`${pairs}; berth_split=33`), 33, '500 pairs, then the split cookie (within the scan limit)');
  assert.equal(cookie(`${'x'.repeat(10 * 1024)}; berth_split=33`), 33, 'after 10 KB of other cookies');
  assert.equal(cookie(`${'x'.repeat(COOKIE_SCAN_LIMIT)}; berth_split=33`), -1, 'past the scan limit: as if absent (the address decides)');
  assert.equal(cookie(`berth_split=33; ${'x'.repeat(COOKIE_SCAN_LIMIT)}`), 33);
  // The number cut by the limit is not read as its first digit.
  const cut = `${'x'.repeat(COOKIE_SCAN_LIMIT - 'berth_split=1'.length - 2)}; berth_split=12`;
  assert.equal(cookie(cut), -1);
  const repeated = 'berth_split'.repeat(3000);
  const started = performance.now();
  for (let i = 0; i < 100; i++) assert.equal(cookie(repeated), -1);
  assert.equal(cookie(';'.repeat(20_000)), -1);
  assert.equal(cookie(' '.repeat(20_000) + 'berth_split=1'), -1);
  assert.ok(performance.now() - started < 2000, 'linear work');
});

test('the cookie the proxy sets: a week, every path, HttpOnly, SameSite=Lax, Secure over TLS', () => {
  assert.equal(splitCookie(7, false), 'berth_split=7; Path=/; Max-Age=604800; HttpOnly; SameSite=Lax');
  assert.equal(splitCookie(93, true), 'berth_split=93; Path=/; Max-Age=604800; HttpOnly; SameSite=Lax; Secure');
  assert.equal(cookie(splitCookie(93, true).split(';')[0]), 93, 'what it writes, it reads back');
});

test('the side of a request: cookie first, else the address (and then a cookie to keep it)', () => {
  const split = (percent: number, sticky: CanarySplit['sticky'] = 'cookie'): CanarySplit => ({ release: 'v2', percent, sticky });
  const ip = '198.51.100.4';
  const bucket = addressBucket(ip);
  assert.deepEqual(splitSide(split(10), ['Cookie'], ['berth_split=3'], ip, false), { canary: true, setCookie: null });
  assert.deepEqual(splitSide(split(10), ['Cookie'], ['berth_split=10'], ip, false), { canary: false, setCookie: null });
  assert.deepEqual(splitSide(split(10), [], [], ip, true), { canary: bucket < 10, setCookie: splitCookie(bucket, true) });
  assert.deepEqual(splitSide(split(10), ['Cookie'], ['berth_split=999'], ip, false), { canary: bucket < 10, setCookie: splitCookie(bucket, false) });
  assert.deepEqual(splitSide(split(100, 'address'), ['Cookie'], ['berth_split=3'], ip, false), { canary: true, setCookie: null }, 'address mode: no cookie read or set');
  assert.deepEqual(splitSide(split(0), ['Cookie'], ['berth_split=0'], ip, false).canary, false, '0 %: nobody on the canary');
  assert.deepEqual(splitSide(split(100), ['Cookie'], ['berth_split=99'], ip, false).canary, true, '100 %: everybody');
});

test('monotonic: a client on the canary at 10 % is still on it at 25, 50 and 100 %', () => {
  for (let b = 0; b < 100; b++) {
    const at = (percent: number) => splitSide({ release: 'v2', percent, sticky: 'cookie' }, ['cookie'], [`berth_split=${b}`], '', false).canary;
    assert.equal(at(0), false, `bucket ${b} is on the canary at 0 %`);
    for (const [low, high] of [[10, 25], [25, 50], [50, 100]]) if (at(low)) assert.ok(at(high), `bucket ${b}: canary at ${low} %, stable at ${high} %`);
  }
});

// ---- picking among a side's targets ------------------------------------------------------------------

function splitTable(targets: Partial<Target>[], split: CanarySplit | null): RouteTable {
  const full = targets.map((t, i) => ({ id: t.id ?? `t${i}`, release: t.release ?? 'v1', address: t.address ?? `127.0.0.1:${9 + i}`, weight: t.weight ?? 1, state: t.state ?? 'active' }));
  return { generation: 1, apps: { app: { hosts: ['app.localhost'], drainTimeoutMs: 1000, targets: full, split } } };
}

function picks(routes: Routes, app: AppRuntime, canary: boolean, n: number, now = 0): string[] {
  return Array.from({ length: n }, () => routes.pick(app, [], now, canary)?.id ?? '-');
}

test("each side round-robins its own targets by weight; the other side's counters stay where they were", () => {
  const routes = new Routes(defaultPoolOptions);
  routes.apply(splitTable([{ id: 's1', weight: 2 }, { id: 's2' }, { id: 'c1', release: 'v2' }, { id: 'c2', release: 'v2' }], { release: 'v2', percent: 10, sticky: 'cookie' }));
  const app = routes.resolve('app.localhost')!;
  assert.deepEqual(app.split!.canary.map((t) => t.id), ['c1', 'c2']);
  assert.deepEqual(picks(routes, app, false, 6), ['s1', 's2', 's1', 's1', 's2', 's1']);
  assert.deepEqual(app.split!.canary.map((t) => t.current), [0, 0], 'stable picks never touch the canary');
  assert.deepEqual(picks(routes, app, true, 4), ['c1', 'c2', 'c1', 'c2']);
  assert.deepEqual(picks(routes, app, false, 3), ['s1', 's2', 's1'], 'stable resumes where it was');
  routes.closeAll();
});

test('a side with no usable target gives way: canary down or empty -> stable; stable draining -> canary; all down -> still served', () => {
  const routes = new Routes(defaultPoolOptions);
  const split: CanarySplit = { release: 'v2', percent: 50, sticky: 'address' };
  routes.apply(splitTable([{ id: 's1' }, { id: 'c1', release: 'v2' }], split));
  let app = routes.resolve('app.localhost')!;
  const [s1, c1] = app.targets;
  routes.markDown(c1, 0);
  assert.deepEqual(picks(routes, app, true, 3, 1), ['s1', 's1', 's1'], 'canary seen down: its clients go to stable');
  assert.equal(routes.pick(app, [s1], 1, false)?.id, 'c1', 'stable tried, canary down: better down than nothing');
  assert.equal(routes.pick(app, [s1], 5000, true)?.id, 'c1', 'up again after its down time');
  assert.equal(routes.pick(app, [c1], 5000, true)?.id, 's1', 'the canary tried once: the retry goes to stable');
  assert.equal(routes.pick(app, [c1, s1], 5000, true), undefined, 'everything tried: nothing left');

  routes.apply({ ...splitTable([{ id: 's1', state: 'draining' }, { id: 'c1', release: 'v2' }], split), generation: 2 });
  app = routes.resolve('app.localhost')!;
  assert.deepEqual(picks(routes, app, false, 3, 5000), ['c1', 'c1', 'c1'], 'stable draining: the canary takes its clients');

  routes.apply({ ...splitTable([{ id: 's1' }], split), generation: 3 });
  app = routes.resolve('app.localhost')!;
  assert.deepEqual(picks(routes, app, true, 2, 5000), ['s1', 's1'], 'no canary target at all: stable');
  routes.closeAll();
});

test('without a split the side is ignored: target weights alone decide, as before', () => {
  const routes = new Routes(defaultPoolOptions);
  routes.apply(splitTable([{ id: 'a', weight: 3 }, { id: 'b', release: 'v2' }], null));
  const app = routes.resolve('app.localhost')!;
  assert.equal(app.split, null);
  assert.deepEqual(picks(routes, app, true, 4), ['a', 'a', 'b', 'a']);
  routes.closeAll();
});

test('weights the control plane zeroed for a side (a split at 0 or 100 %) do not stop that side from standing in', () => {
  const routes = new Routes(defaultPoolOptions);
  // At 100 % the control plane weighs stable 0 (deploy/canary/analysis.ts splitWeights).
  routes.apply(splitTable([{ id: 's1', weight: 0 }, { id: 's2', weight: 0 }, { id: 'c1', release: 'v2', weight: 100 }], { release: 'v2', percent: 100, sticky: 'cookie' }));
  const app = routes.resolve('app.localhost')!;
  assert.deepEqual(picks(routes, app, true, 2), ['c1', 'c1']);
  routes.markDown(app.split!.canary[0], 0);
  assert.deepEqual(picks(routes, app, true, 4, 1), ['s1', 's2', 's1', 's2'], 'the canary down: stable serves, evenly');
  routes.closeAll();
});
