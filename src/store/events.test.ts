/**
 * The event log's queries on a real SQLite file: every filter the SQL applies agrees with `matchesFilter`
 * (what live events are judged by), `query` takes the latest or the first after a cursor, `count` and
 * `tally` count what `query` would read. And the log stays append-only.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { matchesFilter, type EventFilter } from './events.ts';
import { Store } from './store.ts';

function withStore(fn: (store: Store) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'berth-events-'));
  const store = new Store(join(dir, 'berth.db'));
  try {
    fn(store);
  } finally {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const TYPES = ['deploy.queued', 'deploy.failed', 'instance.restarted', 'build.log', 'policy.violation'];
const APPS = ['a', 'b', null];

/** A small deterministic generator (the same events and filters every run). */
function random(seed: number): () => number {
  let s = seed;
  return () => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
}

test('SQL filters agree with matchesFilter; query, count and tally read the same events', () =>
  withStore((store) => {
    const next = random(7);
    const pick = <T>(list: readonly T[]) => list[Math.floor(next() * list.length)];
    for (let i = 0; i < 300; i++) {
      const type = pick(TYPES);
      store.events.append({ at: 1000 + Math.floor(next() * 1000), app: pick(APPS), deploymentId: null, type, message: `m${i}`, data: type === 'deploy.queued' ? { kind: pick(['deploy', 'rollback']) } : null });
    }
    const all = store.events.query({}, 10_000);
    assert.equal(all.length, 300);
    for (let round = 0; round < 200; round++) {
      const filter: EventFilter = {};
      if (next() < 0.5) filter.app = pick(['a', 'b']);
      if (next() < 0.5) filter.sinceMs = 1000 + Math.floor(next() * 1000);
      if (next() < 0.5) filter.untilMs = 1000 + Math.floor(next() * 1000);
      if (next() < 0.3) filter.afterSeq = Math.floor(next() * 300);
      if (next() < 0.3) filter.types = TYPES.filter(() => next() < 0.5);
      if (next() < 0.3) filter.notTypes = TYPES.filter(() => next() < 0.3);
      const expected = all.filter((e) => matchesFilter(e, filter));
      const label = JSON.stringify(filter);
      assert.deepEqual(store.events.query(filter, 10_000), expected, label);
      assert.equal(store.events.count(filter), expected.length, label);
      const limit = 1 + Math.floor(next() * 20);
      // With a cursor the first `limit` after it; without, the latest `limit`; oldest first either way.
      assert.deepEqual(store.events.query(filter, limit), filter.afterSeq === undefined ? expected.slice(-limit) : expected.slice(0, limit), `${label} limit ${limit}`);
      const tallied = store.events.tally(filter).reduce((sum, row) => sum + row.count, 0);
      assert.equal(tallied, expected.length, label);
    }
  }));

test('tally counts by type, and deploy.queued by its kind', () =>
  withStore((store) => {
    const add = (type: string, data: Record<string, unknown> | null = null, app = 'a') => store.events.append({ at: 5, app, deploymentId: null, type, message: type, data });
    add('deploy.queued', { kind: 'deploy' });
    add('deploy.queued', { kind: 'rollback' });
    add('deploy.queued', { kind: 'rollback' });
    add('instance.restarted');
    add('instance.restarted', null, 'b');
    assert.deepEqual(store.events.tally({ app: 'a' }), [
      { type: 'deploy.queued', kind: 'deploy', count: 1 },
      { type: 'deploy.queued', kind: 'rollback', count: 2 },
      { type: 'instance.restarted', kind: null, count: 1 },
    ]);
    assert.deepEqual(store.events.tally({ types: [] }), [], 'an empty type list selects nothing');
    // Hostile filter values are parameters, never SQL.
    assert.deepEqual(store.events.query({ app: "a' OR 1=1 --", types: ["x') OR 1=1 --"] }, 10), []);
    assert.throws(() => store.db.run('DELETE FROM events'), /append-only/);
  }));
