import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rotatedAccessLogName, type AccessEntry } from '../dataplane/access-log.ts';
import { parseStatusFilter, type StatusFilter } from '../model/wire-logs.ts';
import { followAccessLog, readAccessLog } from './access-logs.ts';

const T0 = Date.parse('2026-12-01T10:00:00.000Z');
let seq = 0;
/** A line as the proxy writes it (src/dataplane/access-log.ts), `n` seconds after T0. */
function line(n: number, over: Partial<AccessEntry> = {}): string {
  const entry: AccessEntry = {
    time: new Date(T0 + n * 1000).toISOString(),
    ip: '127.0.0.1',
    method: 'GET',
    path: `/p/${n}`,
    status: 200,
    bytes: 12,
    ms: 1.25,
    host: 'alpha.test',
    app: 'alpha',
    release: 'rel_1',
    instance: 'ins_1',
    id: `req-${++seq}`,
    proto: 'h1',
    tls: false,
    ...over,
  };
  return JSON.stringify(entry) + '\n';
}
const lines = (from: number, to: number, over: (n: number) => Partial<AccessEntry> = () => ({})) => Array.from({ length: to - from }, (_, i) => line(from + i, over(from + i))).join('');
const status = (text: string) => parseStatusFilter(text) as StatusFilter;

function logDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'berth-access-'));
  // Two rotated files and the current one: seconds 0-99, 100-199, 200-249.
  writeFileSync(join(dir, rotatedAccessLogName(new Date(T0 + 100_000))), lines(0, 100));
  writeFileSync(join(dir, rotatedAccessLogName(new Date(T0 + 200_000))), lines(100, 200, (n) => (n % 10 === 0 ? { status: 503, path: `/api/${n}` } : {})));
  writeFileSync(join(dir, 'access.log'), lines(200, 250, (n) => (n % 2 ? { app: 'beta' } : {})));
  return dir;
}
const seconds = (entries: AccessEntry[]) => entries.map((e) => (Date.parse(e.time) - T0) / 1000);

test('the tail comes from the newest files first, oldest first in the answer, only the app asked for', async () => {
  const dir = logDir();
  const read = await readAccessLog(dir, { app: 'alpha', tail: 30 });
  assert.equal(read.complete, true);
  assert.equal(read.from, null);
  // 25 of alpha in the current file (even seconds 200-248), then 5 from the newest rotated one.
  assert.deepEqual(seconds(read.entries), [195, 196, 197, 198, 199, ...Array.from({ length: 25 }, (_, i) => 200 + 2 * i)]);
  assert.deepEqual(seconds((await readAccessLog(dir, { app: 'beta', tail: 3 })).entries), [245, 247, 249]);
  assert.deepEqual((await readAccessLog(dir, { app: 'gamma', tail: 10 })).entries, []);
  assert.deepEqual((await readAccessLog(join(dir, 'missing'), { app: 'alpha', tail: 10 })).entries, []);
});

test('status (class or code), path prefix and since filter', async () => {
  const dir = logDir();
  assert.deepEqual(seconds((await readAccessLog(dir, { app: 'alpha', tail: 100, status: status('5xx') })).entries), [100, 110, 120, 130, 140, 150, 160, 170, 180, 190]);
  assert.deepEqual(seconds((await readAccessLog(dir, { app: 'alpha', tail: 2, status: status('503'), pathPrefix: '/api/1' })).entries), [180, 190]);
  assert.deepEqual((await readAccessLog(dir, { app: 'alpha', tail: 100, status: status('404') })).entries, []);
  const since = await readAccessLog(dir, { app: 'alpha', tail: 1000, sinceMs: T0 + 190_000 });
  assert.deepEqual(seconds(since.entries).slice(0, 11), [190, 191, 192, 193, 194, 195, 196, 197, 198, 199, 200]);
  assert.deepEqual(seconds((await readAccessLog(dir, { app: 'alpha', tail: 0 })).entries), []);
});

test('bad status filters are refused with what is wrong', () => {
  for (const bad of ['6xx', 'abc', '5x', '600', '99', '', '2xxx']) assert.equal(typeof parseStatusFilter(bad), 'string', bad);
  assert.deepEqual(parseStatusFilter('5XX'), { class: 5 });
  assert.deepEqual(parseStatusFilter('404'), { code: 404 });
});

test('huge, binary, torn and foreign lines are skipped; the entries around them are read', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-access-'));
  const junk = [
    'x'.repeat(3 * 1024 * 1024) + '\n', // one line of 3 MiB, across many chunks
    Buffer.from([0, 255, 254, 10, 0x7b, 0xff, 10]).toString('latin1'),
    '{"time":"not a time","status":200,"path":"/","method":"GET","app":"alpha"}\n',
    '{"time":"2026-12-01T10:00:00Z","status":"200","path":"/","method":"GET","app":"alpha"}\n',
    JSON.stringify({ time: new Date(T0).toISOString(), status: 200, path: '/', method: 'GET', app: { toString: 1 } }) + '\n',
    '{"__proto__":{"app":"alpha"},"time":"2026-12-01T10:00:00Z","status":200,"path":"/","method":"GET"}\n',
  ];
  writeFileSync(join(dir, 'access.log'), line(1) + junk.join('') + line(2, { path: '/\u001b[31mred' }) + 'y'.repeat(40_000) + '\n' + line(3) + '{"torn":');
  const read = await readAccessLog(dir, { app: 'alpha', tail: 10 });
  assert.deepEqual(seconds(read.entries), [1, 2, 3]);
  assert.equal(read.entries[1].path, '/\u001b[31mred', 'kept as data; the CLI escapes it when it prints');
  // A file that is nothing but one endless line.
  writeFileSync(join(dir, 'access.log'), 'z'.repeat(5 * 1024 * 1024));
  assert.deepEqual((await readAccessLog(dir, { app: 'alpha', tail: 10 })).entries, []);
});

test('the scan stops at its byte bound and says it is not complete', async () => {
  const dir = logDir();
  const read = await readAccessLog(dir, { app: 'nobody', tail: 10 }, { maxScanBytes: 16 * 1024 });
  assert.equal(read.complete, false);
  assert.deepEqual(read.entries, []);
});

test('a large file: the tail is read from its end with bounded memory and time', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-access-'));
  const block = lines(0, 1000, () => ({ app: 'other' }));
  for (let i = 0; i < 150; i++) appendFileSync(join(dir, 'access.log'), block); // ~45 MB of another app
  appendFileSync(join(dir, 'access.log'), lines(5000, 5010));
  globalThis.gc?.();
  const heapBefore = process.memoryUsage().heapUsed;
  const began = performance.now();
  const read = await readAccessLog(dir, { app: 'alpha', tail: 10 });
  const took = performance.now() - began;
  assert.deepEqual(seconds(read.entries), Array.from({ length: 10 }, (_, i) => 5000 + i));
  assert.ok(took < 1_000, `took ${took.toFixed(1)} ms`);
  // The whole-file scan for an app with no entries: bounded by chunks, not the file.
  const beganRare = performance.now();
  const rare = await readAccessLog(dir, { app: 'alpha', tail: 11 });
  const tookRare = performance.now() - beganRare;
  assert.equal(rare.entries.length, 10);
  assert.equal(rare.complete, true);
  process.stdout.write(`# tail of 10: ${took.toFixed(1)} ms; whole 45 MB scanned: ${tookRare.toFixed(0)} ms\n`);
  const grown = process.memoryUsage().heapUsed - heapBefore;
  assert.ok(grown < 40 * 1024 * 1024, `heap grew ${(grown / 1024 / 1024).toFixed(1)} MiB scanning ${45} MB`);
});

test('follow: appended entries, a torn line once complete, then across a rotation (the rest of the old file first)', { timeout: 15_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-access-'));
  const current = join(dir, 'access.log');
  writeFileSync(current, line(1) + line(2).slice(0, 20));
  const read = await readAccessLog(dir, { app: 'alpha', tail: 10 }, { follow: true });
  assert.deepEqual(seconds(read.entries), [1]);
  const got: AccessEntry[] = [];
  const stop = new AbortController();
  const waitFor = async (n: number) => {
    const until = Date.now() + 5_000;
    while (got.length < n && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
    assert.ok(got.length >= n, `got ${got.length} of ${n}: ${JSON.stringify(seconds(got))}`);
  };
  const following = followAccessLog(dir, { app: 'alpha', status: status('2xx') }, read.from, { signal: stop.signal, pollMs: 20, onEntry: (e) => got.push(e) });
  appendFileSync(current, line(2).slice(20) + line(3, { status: 500 }) + line(4));
  await waitFor(2);
  // Rotation: renamed, one more batch lands in the old file (a write in flight), then a new file.
  renameSync(current, join(dir, rotatedAccessLogName(new Date())));
  appendFileSync(join(dir, rotatedAccessLogName(new Date(0))), ''); // an unrelated rotated file appears
  const rotated = (await import('node:fs')).readdirSync(dir).find((n) => n !== 'access.log' && !n.startsWith('access-19700101'))!;
  appendFileSync(join(dir, rotated), line(5));
  writeFileSync(current, line(6) + line(7, { app: 'beta' }) + line(8));
  await waitFor(5);
  stop.abort();
  await following;
  assert.deepEqual(seconds(got), [2, 4, 5, 6, 8]);
});

test('follow with no access log yet picks up the file once the proxy makes it', { timeout: 15_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-access-'));
  const read = await readAccessLog(dir, { app: 'alpha', tail: 10 }, { follow: true });
  assert.equal(read.from, null);
  const got: AccessEntry[] = [];
  const stop = new AbortController();
  const following = followAccessLog(dir, { app: 'alpha' }, read.from, { signal: stop.signal, pollMs: 20, onEntry: (e) => got.push(e) });
  await new Promise((r) => setTimeout(r, 60));
  writeFileSync(join(dir, 'access.log'), line(9));
  const until = Date.now() + 5_000;
  while (got.length < 1 && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
  stop.abort();
  await following;
  assert.deepEqual(seconds(got), [9]);
});
