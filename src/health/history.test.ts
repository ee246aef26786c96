import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { systemClock } from '../lib/clock.ts';
import { parseManifest } from '../manifest/load.ts';
import type { BerthEvent } from '../model/events.ts';
import { createMasker } from '../runtime/mask-secrets.ts';
import { Store } from '../store/store.ts';
import { judgeApp, recordCheck, type HistoryContext } from './history.ts';

/** recordCheck and judgeApp on a real store: what each check writes, and the app's events once per change. */
function withHistory(fn: (ctx: HistoryContext, events: BerthEvent[], store: Store) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'berth-history-'));
  const store = new Store(join(dir, 'berth.db'));
  const events: BerthEvent[] = [];
  try {
    store.apps.ensure('shop', 1);
    store.builds.insert({ id: 'b1', app: 'shop', artifact: '/x', inferredCommand: null, gitSha: null, createdAt: 1 });
    store.releases.insert({ id: 'r1', app: 'shop', version: store.apps.takeVersion('shop'), buildId: 'b1', manifest: parseManifest(''), formation: {}, envSealed: 'x', description: 'd', status: 'ready', createdAt: 1 });
    store.apps.setCurrentRelease('shop', 'r1');
    for (const [ordinal, id] of ['i1', 'i2'].entries()) {
      store.instances.insert({ id, app: 'shop', releaseId: 'r1', deploymentId: null, process: 'web', ordinal }, 1);
      store.instances.move(id, 'serving', 1);
    }
    const ctx: HistoryContext = { store, clock: systemClock, secrets: { masker: () => createMasker(['s3cret-value']) }, report: (_app, event) => void events.push(event) };
    fn(ctx, events, store);
  } finally {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

test('failures before any pass are kept as unknown with their count; the verdict makes the instance degraded; details masked', () =>
  withHistory((ctx, events, store) => {
    const i1 = store.instances.get('i1')!;
    recordCheck(ctx, i1, { ok: false, status: 503, error: 'answered 503', ms: 4 }, false);
    recordCheck(ctx, i1, { ok: false, error: 'token s3cret-value refused', ms: 2.6 }, false);
    assert.deepEqual({ ...store.health.state('i1'), updatedAt: 0 }, { instanceId: 'i1', app: 'shop', state: 'unknown', failures: 2, updatedAt: 0 });
    assert.deepEqual(store.health.recent('i1', 5).map((c) => [c.ok, c.status, c.latencyMs, c.detail]), [[false, null, 3, 'token *** refused'], [false, 503, 4, 'answered 503']]);
    assert.equal(recordCheck(ctx, i1, { ok: false, error: 'connection refused', ms: 1 }, true), 'degraded');
    assert.equal(store.health.state('i1')!.state, 'degraded');
    assert.deepEqual(events, [], 'the instance events are the monitor\'s; the app is judged apart');
  }));

test('the app: degraded once while any serving instance is, recovered once when none is, nothing for unknown <-> healthy', () =>
  withHistory((ctx, events, store) => {
    const [i1, i2] = [store.instances.get('i1')!, store.instances.get('i2')!];
    judgeApp(ctx, 'shop');
    recordCheck(ctx, i2, { ok: true, status: 200, ms: 1 }, false);
    judgeApp(ctx, 'shop');
    assert.equal(store.health.appState('shop'), 'healthy');
    for (let n = 0; n < 3; n++) recordCheck(ctx, i1, { ok: false, status: 500, error: 'answered 500', ms: 1 }, n === 2);
    judgeApp(ctx, 'shop');
    judgeApp(ctx, 'shop');
    recordCheck(ctx, i1, { ok: false, status: 500, error: 'answered 500', ms: 1 }, false);
    judgeApp(ctx, 'shop');
    assert.deepEqual(events.map((e) => e.type), ['app.degraded']);
    assert.deepEqual((events[0] as { data: unknown }).data, { release: 'v1', instances: ['i1'] });
    recordCheck(ctx, i1, { ok: true, status: 200, ms: 1 }, false);
    judgeApp(ctx, 'shop');
    judgeApp(ctx, 'shop');
    assert.deepEqual(events.map((e) => e.type), ['app.degraded', 'instance.healthy', 'app.recovered']);
    assert.equal(events[1].message, 'web.0 is healthy again');
    assert.equal(store.health.appState('shop'), 'healthy');
  }));
