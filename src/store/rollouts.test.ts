import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Store } from './store.ts';

test('rollouts: one active per app, verdicts kept as JSON, finished ones kept as history, gone with their app', () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-rollouts-'));
  const store = new Store(join(dir, 'berth.db'));
  try {
    store.apps.ensure('shop', 1);
    const base = { app: 'shop', canaryReleaseId: 'rel_b', stableReleaseId: 'rel_a', steps: 2, step: 0, percent: 10, sticky: 'cookie' as const, stepStartedAt: 10, stepEndsAt: 20, state: 'running' as const };
    store.rollouts.insert({ ...base, deploymentId: 'dep_1' }, 10);
    assert.equal(store.rollouts.active('shop')!.deploymentId, 'dep_1');
    assert.equal(store.rollouts.active('shop')!.last, null);
    const last = { at: '2026-01-01T00:00:00.000Z', moment: 'canary_step' as const, allowed: true, canary: { requests: 5, requestsPerSecond: 1, errorRate: 0, p50: 1, p95: 2, p99: 3 }, stable: { requests: 9, requestsPerSecond: 2, errorRate: null, p50: null, p95: null, p99: null }, verdicts: [{ policy: 'p', allowed: true, reason: 'passed' }] };
    const updated = store.rollouts.update('dep_1', { step: 1, percent: 50, last }, 30);
    assert.equal(updated.percent, 50);
    assert.deepEqual(store.rollouts.get('dep_1')!.last, last);
    store.rollouts.update('dep_1', { state: 'aborted', percent: 0, reason: 'canary v2 aborted: x' }, 40);
    assert.equal(store.rollouts.active('shop'), undefined, 'an aborted rollout holds no traffic');
    assert.deepEqual(store.rollouts.allActive(), []);
    assert.equal(store.rollouts.get('dep_1')!.reason, 'canary v2 aborted: x');
    store.rollouts.insert({ ...base, deploymentId: 'dep_2', state: 'aborting' }, 50);
    assert.equal(store.rollouts.active('shop')!.deploymentId, 'dep_2', 'aborting still holds traffic (at 0 %)');
    assert.throws(() => store.rollouts.update('dep_2', { percent: 101 }, 60), /CHECK/);
    assert.throws(() => store.rollouts.update('nope', { percent: 1 }, 60), /no rollout/);
    store.apps.delete('shop');
    assert.equal(store.rollouts.get('dep_1'), undefined, 'gone with the app');
  } finally {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
