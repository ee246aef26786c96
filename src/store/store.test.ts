import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseManifest } from '../manifest/load.ts';
import { Store } from './store.ts';
import { DatabaseSync } from 'node:sqlite';
import { migrations } from './migrations.ts';

const withStore = (fn: (store: Store, path: string) => void) => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-store-'));
  const store = new Store(join(dir, 'berth.db'));
  try {
    fn(store, join(dir, 'berth.db'));
  } finally {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
};

const seed = (store: Store) => {
  store.apps.ensure('hello', 1);
  store.builds.insert({ id: 'b1', app: 'hello', artifact: '/x', inferredCommand: null, gitSha: null, createdAt: 1 });
  store.releases.insert({ id: 'r1', app: 'hello', version: store.apps.takeVersion('hello'), buildId: 'b1', manifest: parseManifest(''), formation: {}, envSealed: 'x', description: 'd', status: 'pending', createdAt: 1 });
};

test('migrations run once and the store reopens with its data', () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-store-'));
  const path = join(dir, 'berth.db');
  const first = new Store(path);
  seed(first);
  first.close();
  const again = new Store(path);
  assert.equal(again.releases.get('r1')!.version, 1);
  assert.equal(again.db.get<{ user_version: number }>('PRAGMA user_version')!.user_version, migrations.at(-1)!.version);
  assert.equal(again.db.get<{ journal_mode: string }>('PRAGMA journal_mode')!.journal_mode, 'wal');
  again.close();
  rmSync(dir, { recursive: true, force: true });
});

test('versions are handed out in order per app', () =>
  withStore((store) => {
    store.apps.ensure('a', 1);
    assert.deepEqual([store.apps.takeVersion('a'), store.apps.takeVersion('a'), store.apps.takeVersion('a')], [1, 2, 3]);
  }));

test('a failing transaction leaves nothing behind and its events are never announced', () =>
  withStore((store) => {
    const heard: string[] = [];
    store.events.subscribe((e) => heard.push(e.type));
    assert.throws(() =>
      store.transaction(() => {
        store.apps.ensure('ghost', 1);
        store.events.append({ at: 1, app: 'ghost', deploymentId: null, type: 'app.created', message: 'x', data: null });
        throw new Error('boom');
      }),
    );
    assert.equal(store.apps.get('ghost'), undefined);
    assert.deepEqual(heard, []);
    store.transaction(() => store.events.append({ at: 1, app: 'real', deploymentId: null, type: 'app.created', message: 'x', data: null }));
    assert.deepEqual(heard, ['app.created']);
  }));

test('deployments follow their state machine and refuse impossible moves', () =>
  withStore((store) => {
    seed(store);
    store.deployments.insert({ id: 'd1', app: 'hello', kind: 'deploy', releaseId: null, previousReleaseId: null }, 1);
    assert.equal(store.deployments.holding('hello')!.id, 'd1');
    store.deployments.move('d1', 'building', 2);
    assert.throws(() => store.deployments.move('d1', 'succeeded', 3), /cannot go from building to succeeded/);
    store.deployments.move('d1', 'failed', 3, { error: { code: 'BUILD_FAILED', message: 'm', logTail: ['a'] } });
    const d = store.deployments.get('d1')!;
    assert.equal(d.finishedAt, 3);
    assert.deepEqual(d.error, { code: 'BUILD_FAILED', message: 'm', logTail: ['a'] });
    assert.equal(store.deployments.holding('hello'), undefined);
  }));

test('instances follow their state machine', () =>
  withStore((store) => {
    seed(store);
    store.instances.insert({ id: 'i1', app: 'hello', releaseId: 'r1', deploymentId: null, process: 'web', ordinal: 0 }, 1);
    store.instances.move('i1', 'serving', 2, { address: '127.0.0.1:1' });
    store.instances.move('i1', 'draining', 3, { stateUntil: 10 });
    assert.equal(store.instances.get('i1')!.stateUntil, 10);
    assert.throws(() => store.instances.move('i1', 'starting', 4), /cannot go from draining to starting/);
    assert.deepEqual(store.instances.live('hello').map((i) => i.id), ['i1']);
  }));

test('events are append-only', () =>
  withStore((store) => {
    store.events.append({ at: 1, app: 'a', deploymentId: null, type: 't', message: 'm', data: { k: 1 } });
    assert.throws(() => store.db.run('UPDATE events SET message = ?', 'changed'), /append-only/);
    assert.throws(() => store.db.run('DELETE FROM events'), /append-only/);
    assert.deepEqual(store.events.forApp('a')[0].data, { k: 1 });
  }));

test('destroying an app cascades to what belongs to it, but not to events', () =>
  withStore((store) => {
    seed(store);
    store.env.set('hello', 'A', 'sealed', 1);
    store.events.append({ at: 1, app: 'hello', deploymentId: null, type: 't', message: 'm', data: null });
    store.apps.delete('hello');
    assert.equal(store.releases.get('r1'), undefined);
    assert.deepEqual(store.env.list('hello'), []);
    assert.equal(store.events.forApp('hello').length, 1);
  }));

test('tokens are stored hashed and verified', () =>
  withStore((store) => {
    const token = store.tokens.create('t1', 'admin', 1);
    assert.match(token, /^berth_/);
    assert.equal(store.tokens.verify(token), 'admin');
    assert.equal(store.tokens.verify(token + 'x'), undefined);
    assert.equal(store.db.get<{ n: number }>('SELECT COUNT(*) AS n FROM tokens WHERE hash = ?', token)!.n, 0);
  }));

test('a store written by an older berth is migrated with its rows kept', () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-store-'));
  const path = join(dir, 'berth.db');
  const old = new DatabaseSync(path);
  old.exec(migrations[0].sql);
  old.exec('PRAGMA user_version = 1');
  old.exec("INSERT INTO apps (name, created_at) VALUES ('legacy', 1)");
  old.exec("INSERT INTO deployments (id, app, kind, state, created_at, updated_at) VALUES ('dep_old', 'legacy', 'deploy', 'succeeded', 1, 1)");
  old.close();
  const store = new Store(path);
  assert.equal(store.deployments.get('dep_old')!.state, 'succeeded');
  assert.deepEqual(store.apps.get('legacy')!.formation, {});
  store.deployments.insert({ id: 'dep_scale', app: 'legacy', kind: 'scale', releaseId: null, previousReleaseId: null }, 2);
  assert.equal(store.deployments.get('dep_scale')!.kind, 'scale');
  store.close();
  rmSync(dir, { recursive: true, force: true });
});
