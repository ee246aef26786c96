/**
 * The access log's writer on a real file system: lines parseable, rotation by size, deletion by age, a
 * failing or stalled disk costing dropped (and counted) lines instead of a blocked or growing proxy, and
 * what waits written on close.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, readSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ACCESS_LOG_CURRENT, parseAccessLine, ROTATED_ACCESS_LOG, rotatedAccessLogName, type AccessEntry } from '../../dataplane/access-log.ts';
import { AccessLogWriter, type AccessLogOptions } from './writer.ts';

const DAY_MS = 86_400_000;

function tempDir(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'berth-access-log-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const entry = (i: number): AccessEntry => ({
  time: new Date().toISOString(),
  ip: '127.0.0.1',
  method: 'GET',
  path: `/item/${i}`,
  status: 200,
  bytes: 12,
  ms: 0.25,
  host: 'app.localhost',
  app: 'app',
  release: 'rel_1',
  instance: 'ins_1',
  id: `id-${i}`,
  proto: 'h1',
  tls: false,
});

const writer = (dir: string, options: Partial<AccessLogOptions> = {}) => new AccessLogWriter({ dir, maxFileBytes: 1024 * 1024, keepDays: 14, ...options });

async function until(what: string, check: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Every line of every file, oldest file first (rotated names sort by time; the current file is the newest). */
function allLines(dir: string): string[] {
  const rotated = readdirSync(dir).filter((n) => ROTATED_ACCESS_LOG.test(n)).sort();
  const files = [...rotated, ...(readdirSync(dir).includes(ACCESS_LOG_CURRENT) ? [ACCESS_LOG_CURRENT] : [])];
  return files.flatMap((name) => readFileSync(join(dir, name), 'utf8').split('\n').filter(Boolean));
}

test('lines are written off the caller, within a flush interval, each one an entry parseAccessLine reads back', async (t) => {
  const dir = join(tempDir(t), 'access');
  const log = writer(dir, { flushMs: 20 });
  for (let i = 0; i < 10; i++) log.add(entry(i));
  assert.equal(log.stats().lines, 0, 'nothing written synchronously');
  await until('the flush', () => log.stats().lines === 10);
  const lines = allLines(dir).map(parseAccessLine);
  assert.deepEqual(lines.map((e) => e?.path), Array.from({ length: 10 }, (_, i) => `/item/${i}`));
  assert.deepEqual(Object.keys(lines[0]!), Object.keys(entry(0)), 'fields in their declared order');
  assert.equal(statSync(join(dir, ACCESS_LOG_CURRENT)).mode & 0o777, 0o600);
  await log.close();
});

test('rotated by size: no file passes the limit, no line is lost or torn, names sort by time', async (t) => {
  const dir = tempDir(t);
  const log = writer(dir, { maxFileBytes: 1024, flushMs: 5 });
  for (let round = 0; round < 5; round++) {
    for (let i = 0; i < 20; i++) log.add(entry(round * 20 + i));
    await until('the round written', () => log.stats().lines === (round + 1) * 20);
  }
  await log.close();
  const names = readdirSync(dir);
  assert.ok(names.filter((n) => ROTATED_ACCESS_LOG.test(n)).length >= 5, `rotated files: ${names.join(', ')}`);
  for (const name of names) assert.ok(statSync(join(dir, name)).size <= 1024, `${name} is ${statSync(join(dir, name)).size} bytes`);
  assert.deepEqual(allLines(dir).map((l) => parseAccessLine(l)?.path), Array.from({ length: 100 }, (_, i) => `/item/${i}`));
  assert.equal(log.stats().rotations, names.length - 1);
});

test('rotated files older than keepDays are deleted at rotation; newer ones and foreign files stay', async (t) => {
  const dir = tempDir(t);
  const old = rotatedAccessLogName(new Date(Date.now() - 3 * DAY_MS));
  const recent = rotatedAccessLogName(new Date(Date.now() - 1 * DAY_MS));
  for (const name of [old, recent, 'notes.txt']) writeFileSync(join(dir, name), 'x\n');
  const log = writer(dir, { maxFileBytes: 1024, keepDays: 2, flushMs: 5 });
  for (let i = 0; i < 20; i++) log.add(entry(i));
  await until('a rotation', () => log.stats().rotations > 0);
  await log.close();
  const names = readdirSync(dir);
  assert.ok(!names.includes(old), 'three days old with two kept: deleted');
  assert.ok(names.includes(recent) && names.includes('notes.txt'));
});

test('a write that fails drops its lines and counts them; the caller is never held up', async (t) => {
  const dir = tempDir(t);
  mkdirSync(join(dir, ACCESS_LOG_CURRENT)); // the file replaced by a directory: every open fails (EISDIR)
  const warnings: string[] = [];
  const log = writer(dir, { flushMs: 5, warn: (m) => warnings.push(m) });
  for (let i = 0; i < 10; i++) log.add(entry(i));
  await until('the failed write', () => log.stats().failures === 1);
  for (let i = 0; i < 5; i++) log.add(entry(i));
  await until('the second failed write', () => log.stats().failures === 2);
  assert.deepEqual([log.stats().lines, log.stats().dropped], [0, 15]);
  assert.equal(warnings.length, 1, 'warned once a minute at most');
  assert.match(warnings[0], /10 lines dropped: EISDIR/);

  rmSync(join(dir, ACCESS_LOG_CURRENT), { recursive: true });
  log.add(entry(99));
  await log.close();
  assert.deepEqual(allLines(dir).map((l) => parseAccessLine(l)?.id), ['id-99'], 'writes again once the path is a file');
});

test('a stalled disk: lines past the buffer cap are dropped and counted, memory stays bounded, the rest written when it moves', async (t) => {
  const dir = tempDir(t);
  const fifo = join(dir, ACCESS_LOG_CURRENT);
  // A FIFO nobody reads: opening it for writing blocks, as a hung disk would, until a reader comes.
  execFileSync('mkfifo', [fifo]);
  const log = writer(dir, { flushMs: 5, maxBufferedBytes: 4096 });
  // Whatever an assertion says, the blocked open must be let through, or the test process never ends.
  let reader: number | null = null;
  const unblock = () => (reader ??= openSync(fifo, 'r+')); // O_RDWR: a reader, without blocking
  t.after(() => {
    unblock();
    closeSync(reader!);
  });
  const started = performance.now();
  for (let i = 0; i < 100; i++) log.add(entry(i));
  const took = performance.now() - started;
  assert.ok(took < 50, `adding 100 lines took ${took.toFixed(1)} ms`);
  await new Promise((r) => setTimeout(r, 100));
  const stalled = log.stats();
  assert.equal(stalled.lines, 0, 'nothing got through');
  const kept = 100 - stalled.dropped;
  const lineBytes = JSON.stringify(entry(0)).length + 1; // the shortest line
  assert.ok(stalled.dropped > 50 && kept > 0 && kept * lineBytes <= 4096, `${stalled.dropped} dropped, ${kept} kept within 4 KiB`);

  unblock();
  await log.close();
  const written = log.stats();
  assert.equal(written.lines + written.dropped, 100, 'every line written or counted as dropped');
  assert.equal(written.lines, kept);
  const buf = Buffer.alloc(64 * 1024);
  const text = buf.toString('utf8', 0, readSync(reader!, buf));
  assert.equal(text.split('\n').filter(Boolean).filter((l) => parseAccessLine(l) !== null).length, kept);
});

test('close writes what waits at once, and a closed log takes no more lines', async (t) => {
  const dir = tempDir(t);
  const log = writer(dir, { flushMs: 60_000 });
  for (let i = 0; i < 3; i++) log.add(entry(i));
  await log.close();
  assert.deepEqual(allLines(dir).map((l) => parseAccessLine(l)?.id), ['id-0', 'id-1', 'id-2']);
  log.add(entry(3));
  assert.equal(log.stats().dropped, 1);
});
