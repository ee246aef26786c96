import { test } from 'node:test';
import assert from 'node:assert/strict';
import { addSums, emptySums, figures, histogramQuantile, isWindowName } from './windows.ts';

const BOUNDS = [10, 100, 1000];

test('histogramQuantile interpolates inside the bucket the rank falls in, as Prometheus does', () => {
  // 100 requests: 50 under 10 ms, 40 in (10, 100], 10 in (100, 1000].
  const buckets = [50, 40, 10, 0];
  assert.equal(histogramQuantile(0.5, BOUNDS, buckets), 10); // rank 50: the top of the first bucket
  assert.equal(histogramQuantile(0.25, BOUNDS, buckets), 5); // rank 25 of 50 in [0, 10]
  assert.equal(histogramQuantile(0.7, BOUNDS, buckets), 55); // rank 70: 20 of 40 into (10, 100]
  assert.equal(histogramQuantile(0.95, BOUNDS, buckets), 550); // rank 95: 5 of 10 into (100, 1000]
});

test('a rank in the +Inf bucket answers the highest finite bound; an empty histogram null', () => {
  assert.equal(histogramQuantile(0.99, BOUNDS, [0, 0, 1, 99]), 1000);
  assert.equal(histogramQuantile(0.5, BOUNDS, [0, 0, 0, 0]), null);
  assert.equal(histogramQuantile(1.5, BOUNDS, [1, 0, 0, 0]), null);
});

test('figures: rate over the whole window, 5xx and proxy errors over all, null latencies without requests', () => {
  const sums = emptySums(BOUNDS);
  sums.requests = 120;
  sums.status['2xx'] = 100;
  sums.status['4xx'] = 8;
  sums.status['5xx'] = 10;
  sums.status.error = 2;
  sums.buckets = [60, 60, 0, 0];
  sums.sumMs = 3000;
  const f = figures(sums, 60_000);
  assert.equal(f.requestsPerSecond, 2);
  assert.equal(f.errorRate, 0.1);
  assert.equal(f.latencyMs.p50, 10);
  assert.equal(f.latencyMs.mean, 25);
  const none = figures(emptySums(BOUNDS), 300_000);
  assert.deepEqual(none, { requests: 0, requestsPerSecond: 0, errorRate: null, latencyMs: { p50: null, p95: null, p99: null, mean: null } });
});

test('addSums merges releases, also with other bucket bounds (each bucket under the bound at or above its own)', () => {
  const a = emptySums(BOUNDS);
  const b = emptySums([10, 50, 1000]);
  b.requests = 3;
  b.status['2xx'] = 3;
  b.buckets = [1, 1, 0, 1];
  addSums(a, b);
  assert.deepEqual(a.buckets, [1, 1, 0, 1]);
  assert.equal(a.requests, 3);
});

test('only 1m, 5m and 1h are windows (not inherited names)', () => {
  assert.ok(isWindowName('1m') && isWindowName('5m') && isWindowName('1h'));
  for (const bad of ['10m', '', 'toString', '__proto__', '1M']) assert.equal(isWindowName(bad), false, bad);
});
