import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { App, CanaryRollout } from '../../model/wire.ts';
import { style } from '../io.ts';
import { formatStatus } from './status.ts';

/** `berth status` while a canary runs: mode, weight, step, time left, the last verdicts with numbers. */
const now = Date.parse('2026-01-01T12:00:00Z');
const plain = style(false);
const figures = (requests: number, errorRate: number, p99: number) => ({ requests, requestsPerSecond: requests / 10, errorRate, p50: 5, p95: p99 / 2, p99 });
const canary = (fields: Partial<CanaryRollout>): CanaryRollout => ({
  deployment: 'dep_1',
  state: 'running',
  canary: 'v5',
  stable: 'v4',
  percent: 10,
  step: 1,
  steps: 3,
  stepStartedAt: new Date(now - 20_000).toISOString(),
  stepEndsAt: new Date(now + 40_000).toISOString(),
  last: null,
  reason: null,
  ...fields,
});
const app = (rollout: CanaryRollout | null): App => ({
  name: 'shop',
  createdAt: '2025-12-01T00:00:00Z',
  urls: ['http://shop.localhost'],
  status: 'deploying',
  health: 'healthy',
  release: { id: 'rel_4', version: 4, name: 'v4' },
  deploying: { id: 'dep_1', state: 'canary' },
  instances: [],
  updates: [],
  chaos: null,
  canary: rollout,
});

test('a running canary: weight, step, time left, and no verdict yet', () => {
  const text = formatStatus(app(canary({})), null, now, plain);
  assert.match(text, /mode\s+canary v5 at 10 % \(step 1\/3, 40s left\), v4 serves the rest/);
  assert.match(text, /no verdict yet/);
  assert.match(text, /`berth promote shop` promotes now, `berth abort shop` puts all traffic back on v4/);
});

test('the last verdicts with their numbers, a deny with its reason', () => {
  const last = {
    at: new Date(now - 1000).toISOString(),
    moment: 'canary_step' as const,
    allowed: false,
    canary: figures(412, 0.302, 812),
    stable: figures(3000, 0, 40),
    verdicts: [
      { policy: 'canary-error-rate', allowed: false, reason: 'the canary\'s error rate is above 1 %' },
      { policy: 'canary-p99', allowed: true, reason: 'passed' },
    ],
  };
  const text = formatStatus(app(canary({ percent: 50, step: 2, last })), null, now, plain);
  assert.match(text, /last verdict \(step 2\): denied: canary 412 req, errors 30\.2 %, p99 812 ms; stable 3000 req, errors 0 %, p99 40 ms/);
  assert.match(text, /deny  canary-error-rate: the canary's error rate is above 1 %/);
  assert.match(text, /allow canary-p99/);
});

test('aborting: all traffic on stable, with the reason; an older server without the field shows nothing', () => {
  const text = formatStatus(app(canary({ state: 'aborting', percent: 0, reason: 'aborted by alice (cli)' })), null, now, plain);
  assert.match(text, /mode\s+canary v5 aborting: all traffic on v4 \(aborted by alice \(cli\)\)/);
  const { canary: _, ...old } = app(null);
  assert.doesNotMatch(formatStatus(old as App, null, now, plain), /mode|verdict/);
});
