import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChaosRecord } from './chaos.ts';
import { Store } from './store.ts';

/** The chaos rules on a real SQLite file: one per app, replaced, listed by expiry, kept across reopening, gone with the app. */
test('chaos rules: put replaces, expired lists by until, survives reopening, goes with its app', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-chaos-store-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'berth.db');
  let store = new Store(path);
  store.apps.ensure('a', 1);
  store.apps.ensure('b', 1);
  const slow: ChaosRecord = { app: 'a', mode: 'slow', latencyMs: 2000, status: null, ratio: null, releaseVersion: null, since: 10, until: 500 };
  store.chaos.put(slow);
  store.chaos.put({ ...slow, mode: 'error', latencyMs: null, status: 503, ratio: 0.3, releaseVersion: 3, until: 200 });
  store.chaos.put({ ...slow, app: 'b', until: 100 });
  assert.deepEqual(store.chaos.get('a'), { ...slow, mode: 'error', latencyMs: null, status: 503, ratio: 0.3, releaseVersion: 3, until: 200 });
  assert.deepEqual(store.chaos.expired(150).map((r) => r.app), ['b']);
  assert.deepEqual(store.chaos.expired(200).map((r) => r.app), ['b', 'a']);
  store.close();
  store = new Store(path);
  try {
    assert.equal(store.chaos.list().length, 2, 'kept across a restart');
    assert.throws(() => store.chaos.put({ ...slow, app: 'nope' }), /FOREIGN KEY/);
    store.apps.delete('b');
    assert.equal(store.chaos.get('b'), undefined);
    assert.equal(store.chaos.remove('a'), true);
    assert.equal(store.chaos.remove('a'), false);
  } finally {
    store.close();
  }
});
