import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ApiEvent, App } from '../../model/wire.ts';
import { style } from '../io.ts';
import { formatRolling, rollingProgress } from './rolling-status.ts';
import { formatStatus } from './status.ts';

/** `berth status` while a rolling deploy runs: the strategy and the last batch done. */
const batch = (seq: number, deploymentId: string, data: { process: string; batch: number; of: number; started: number; retired: number; rollback?: boolean }): ApiEvent => ({
  seq,
  at: '2026-01-01T12:00:00Z',
  app: 'shop',
  deploymentId,
  type: 'deploy.batch',
  message: `${data.process}: batch ${data.batch}/${data.of}`,
  data,
});
const app = (state: 'rolling' | 'verifying' | null): App => ({
  name: 'shop',
  createdAt: '2025-12-01T00:00:00Z',
  urls: ['http://shop.localhost'],
  status: 'running',
  health: 'healthy',
  release: { id: 'rel_4', version: 4, name: 'v4' },
  deploying: state ? { id: 'dep_2', state } : null,
  instances: [],
  updates: [],
  chaos: null,
} as App);

test('the last batch of the deployment asked for, whatever the order; another deployment\'s batches ignored', () => {
  const events = [batch(7, 'dep_2', { process: 'web', batch: 2, of: 3, started: 1, retired: 1 }), batch(5, 'dep_2', { process: 'web', batch: 1, of: 3, started: 1, retired: 1 }), batch(9, 'dep_1', { process: 'web', batch: 3, of: 3, started: 1, retired: 1 })];
  assert.deepEqual(rollingProgress(events, 'dep_2'), { process: 'web', batch: 2, of: 3, started: 1, retired: 1, rollback: false });
  assert.equal(rollingProgress(events, 'dep_3'), null);
});

test('the mode row says rolling, the process and the batch; a rollback says so', () => {
  const now = Date.parse('2026-01-01T12:00:05Z');
  const text = formatStatus(app('rolling'), null, now, style(false), null, { process: 'web', batch: 2, of: 3, started: 1, retired: 1, rollback: false });
  assert.match(text, /^  mode +rolling: replacing instances, web batch 2\/3 done \(1 started, 1 retired\)$/m);
  assert.match(formatStatus(app('rolling'), null, now, style(false)), /^  mode +rolling: first batch starting$/m);
  assert.doesNotMatch(formatStatus(app('verifying'), null, now, style(false)), /rolling/);
  assert.match(formatRolling({ process: 'worker', batch: 1, of: 1, started: 1, retired: 1, rollback: true }), /putting the serving release back, worker batch 1\/1/);
});
