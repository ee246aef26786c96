import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseManifest } from '../manifest/load.ts';
import { CHECKS_KEPT } from './health-checks.ts';
import { Store } from './store.ts';

/** Health history on a real SQLite file: trimmed per instance on insert, kept across a reopen, gone with the app. */
function withDir(fn: (path: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'berth-health-'));
  try {
    fn(join(dir, 'berth.db'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** An app with one release and `instances` serving instances of it. */
function seed(store: Store, app: string, instances: string[]): void {
  store.apps.ensure(app, 1);
  store.builds.insert({ id: `b_${app}`, app, artifact: '/x', inferredCommand: null, gitSha: null, createdAt: 1 });
  store.releases.insert({ id: `r_${app}`, app, version: store.apps.takeVersion(app), buildId: `b_${app}`, manifest: parseManifest(''), formation: {}, envSealed: 'x', description: 'd', status: 'ready', createdAt: 1 });
  instances.forEach((id, ordinal) => store.instances.insert({ id, app, releaseId: `r_${app}`, deploymentId: null, process: 'web', ordinal }, 1));
}

const check = (instanceId: string, app: string, at: number, ok = at % 2 === 0) => ({ instanceId, app, at, ok, status: ok ? 200 : 500, latencyMs: at % 7, detail: ok ? null : `answered 500 #${at}` });

test(`each instance keeps its newest ${CHECKS_KEPT} checks, trimmed on insert; the newest come first`, () =>
  withDir((path) => {
    const store = new Store(path);
    seed(store, 'shop', ['i1', 'i2']);
    for (let at = 1; at <= 250; at++) store.health.record(check('i1', 'shop', at));
    for (let at = 1; at <= 5; at++) store.health.record(check('i2', 'shop', at));
    assert.equal(store.health.count('i1'), CHECKS_KEPT);
    assert.equal(store.health.count('i2'), 5, 'another instance\'s history is not trimmed by this one');
    const recent = store.health.recent('i1', 10);
    assert.deepEqual(recent.map((c) => c.at), [250, 249, 248, 247, 246, 245, 244, 243, 242, 241]);
    assert.deepEqual(recent[0], { instanceId: 'i1', app: 'shop', at: 250, ok: true, status: 200, latencyMs: 250 % 7, detail: null });
    assert.deepEqual(recent[1], { instanceId: 'i1', app: 'shop', at: 249, ok: false, status: 500, latencyMs: 249 % 7, detail: 'answered 500 #249' });
    assert.equal(store.health.recent('i1', 1000).at(-1)!.at, 151, 'the oldest kept');
    assert.equal(store.db.get<{ n: number }>('SELECT COUNT(*) AS n FROM health_checks')!.n, CHECKS_KEPT + 5);
    store.close();
  }));

test('history, instance states and the app state survive a reopen; unknown without a row', () =>
  withDir((path) => {
    const first = new Store(path);
    seed(first, 'shop', ['i1', 'i2']);
    for (let at = 1; at <= 3; at++) first.health.record(check('i1', 'shop', at, false));
    first.health.setState({ instanceId: 'i1', app: 'shop', state: 'degraded', failures: 3, updatedAt: 3 });
    first.health.setAppState('shop', 'degraded', 3);
    first.close();
    const again = new Store(path);
    assert.deepEqual(again.health.recent('i1', 10).map((c) => [c.at, c.ok]), [[3, false], [2, false], [1, false]]);
    assert.deepEqual(again.health.state('i1'), { instanceId: 'i1', app: 'shop', state: 'degraded', failures: 3, updatedAt: 3 });
    assert.equal(again.health.state('i2'), undefined);
    assert.equal(again.health.appState('shop'), 'degraded');
    assert.equal(again.health.appState('other'), 'unknown');
    again.health.setState({ instanceId: 'i1', app: 'shop', state: 'healthy', failures: 0, updatedAt: 4 });
    assert.deepEqual([...again.health.statesOf('shop').values()].map((s) => [s.instanceId, s.state, s.failures]), [['i1', 'healthy', 0]]);
    again.close();
  }));

test('destroying the app removes its history and states; another app keeps its own; forget removes one instance\'s', () =>
  withDir((path) => {
    const store = new Store(path);
    seed(store, 'shop', ['i1']);
    seed(store, 'blog', ['j1', 'j2']);
    for (const [id, app] of [['i1', 'shop'], ['j1', 'blog'], ['j2', 'blog']] as const) {
      store.health.record(check(id, app, 1));
      store.health.setState({ instanceId: id, app, state: 'healthy', failures: 0, updatedAt: 1 });
      store.health.setAppState(app, 'healthy', 1);
    }
    store.apps.delete('shop');
    assert.equal(store.health.count('i1'), 0);
    assert.equal(store.health.state('i1'), undefined);
    assert.equal(store.health.appState('shop'), 'unknown');
    assert.equal(store.health.count('j1'), 1);
    assert.equal(store.health.appState('blog'), 'healthy');
    store.health.forget(['j1']);
    assert.equal(store.health.count('j1'), 0);
    assert.equal(store.health.state('j1'), undefined);
    assert.equal(store.health.count('j2'), 1);
    store.close();
  }));
