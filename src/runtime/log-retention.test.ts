import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { systemClock } from '../lib/clock.ts';
import { silentLogger } from '../lib/log.ts';
import { createFakeDriver } from './fake/driver.ts';
import { appendFakeLog, createFakeState } from './fake/state.ts';
import { pruneLogTree, pruneStoreFile, startLogRetention } from './log-retention.ts';
import { appendToStore, readStore } from './log-store.ts';
import { pruneProcessLogs } from './process/prune-logs.ts';

const stored = (ts: number, line = `line at ${ts}`) => ({ ts, stream: 'stdout' as const, line });

function tree(): string {
  const root = mkdtempSync(join(tmpdir(), 'berth-retention-'));
  mkdirSync(join(root, 'app', 'rel_1'), { recursive: true });
  return root;
}

test('a store starting with old lines is cut at the first line at or after the cutoff; damaged old lines go too', () => {
  const root = tree();
  const store = join(root, 'app', 'rel_1', 'web.ins_1.jsonl');
  appendToStore(store, [stored(1000), stored(2000)], 1 << 20);
  writeFileSync(store, readFileSync(store, 'utf8') + '{"ts":25\n', { flag: 'w' }); // a line cut by a crash
  appendToStore(store, [stored(3000), stored(4000, 'keep {"ts":1}')], 1 << 20);
  assert.deepEqual(pruneStoreFile(store, 3000), { files: 0, lines: 3 });
  assert.deepEqual(readStore(store, 'ins_1').map((l) => l.ts), [3000, 4000]);
  assert.deepEqual(pruneStoreFile(store, 3000), { files: 0, lines: 0 }, 'a second sweep finds nothing to do');
  assert.deepEqual(pruneStoreFile(store, 5000), { files: 1, lines: 2 }, 'nothing newer: the file goes');
  assert.equal(existsSync(store), false);
  assert.deepEqual(pruneStoreFile(store, 5000), { files: 0, lines: 0 }, 'a missing file is no error');
});

test('a store not written since the cutoff goes whole (by its time), the rotated one first', () => {
  const root = tree();
  const dir = join(root, 'app', 'rel_1');
  const now = Date.now();
  appendToStore(join(dir, 'i.jsonl.1'), [stored(now - 10 * 86_400_000)], 1 << 20);
  appendToStore(join(dir, 'i.jsonl'), [stored(now - 3 * 86_400_000), stored(now - 60_000)], 1 << 20);
  const old = (now - 9 * 86_400_000) / 1000;
  utimesSync(join(dir, 'i.jsonl.1'), old, old);
  writeFileSync(join(dir, 'notes.txt'), 'not a store');
  const result = pruneLogTree(root, now - 7 * 86_400_000);
  assert.deepEqual(result, { files: 1, lines: 1 });
  assert.equal(existsSync(join(dir, 'i.jsonl.1')), false);
  assert.deepEqual(readStore(join(dir, 'i.jsonl'), 'i').length, 2, 'its lines are all within the retention');
  assert.equal(existsSync(join(dir, 'notes.txt')), true, 'only stores are touched');
});

test('process logs: raw files go with the store of a stopped instance once old, never those of one that exists', () => {
  const root = tree();
  const dir = join(root, 'app', 'rel_1');
  const old = (Date.now() - 30 * 86_400_000) / 1000;
  for (const id of ['ins_gone', 'ins_alive']) {
    for (const ext of ['stdout', 'stderr', 'pos']) writeFileSync(join(dir, `web.${id}.${ext}`), 'x\n');
    appendToStore(join(dir, `web.${id}.jsonl`), [stored(1000)], 1 << 20);
    for (const ext of ['stdout', 'stderr', 'pos', 'jsonl']) utimesSync(join(dir, `web.${id}.${ext}`), old, old);
  }
  const result = pruneProcessLogs(root, Date.now() - 86_400_000, (id) => id === 'ins_alive');
  assert.deepEqual(result, { files: 5, lines: 2 }, 'two stores, and the three files of the instance that is gone');
  assert.deepEqual(['stdout', 'stderr', 'pos'].map((ext) => existsSync(join(dir, `web.ins_gone.${ext}`))), [false, false, false]);
  assert.deepEqual(['stdout', 'stderr', 'pos'].map((ext) => existsSync(join(dir, `web.ins_alive.${ext}`))), [true, true, true]);
});

test('startLogRetention sweeps at once and then on its interval, with a short retention', { timeout: 10_000 }, async () => {
  const infoLines: unknown[] = [];
  const log = { ...silentLogger, info: (message: string, fields?: unknown) => infoLines.push({ message, fields }), child: () => log };
  // Lines the fake holds for an instance that no longer runs: written "now", then aging past a 150 ms retention.
  const sharedState = createFakeState();
  const withState = createFakeDriver({ state: sharedState });
  sharedState.logOwners.set('ins_old', { app: 'a', release: 'r' });
  appendFakeLog(sharedState, { ts: Date.now(), stream: 'stdout', line: 'first', instance: 'ins_old' });
  const stop = startLogRetention(withState, { retentionMs: 150, clock: systemClock, log: log as typeof silentLogger, everyMs: 50 });
  try {
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(sharedState.logs.get('ins_old')?.length, 1, 'the first sweep keeps a line younger than the retention');
    const until = Date.now() + 5_000;
    while (sharedState.logs.has('ins_old') && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(sharedState.logs.has('ins_old'), false, 'a later sweep deleted it once it was older');
    assert.ok(infoLines.some((l) => (l as { message: string }).message === 'old app log lines deleted'));
  } finally {
    stop();
    await withState.close();
  }
});
