import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ReleaseStats } from '../dataplane/route-table.ts';
import { delta, isReset, readingOf } from './counters.ts';

const stats = (requests: number, fields: Partial<ReleaseStats> = {}): ReleaseStats => ({
  app: 'shop',
  release: 'rel_1',
  requests,
  status: { '2xx': requests, '3xx': 0, '4xx': 0, '5xx': 0, error: 0 },
  latency: { bounds: [10, 100], counts: [requests, 0, 0], sumMs: requests * 2 },
  upstreamErrors: 0,
  retries: 0,
  inflight: 0,
  websockets: 0,
  websocketsOpened: 0,
  ...fields,
});

test('the delta of two readings is their difference', () => {
  const d = delta(readingOf(stats(10)), readingOf(stats(25)));
  assert.equal(d.requests, 15);
  assert.equal(d.status['2xx'], 15);
  assert.deepEqual(d.buckets, [15, 0, 0]);
  assert.equal(d.sumMs, 30);
});

test('a counter that went down is a reset (proxy restart): the new reading is the whole increase', () => {
  const before = readingOf(stats(100));
  const after = readingOf(stats(7));
  assert.ok(isReset(before, after));
  assert.equal(delta(before, after).requests, 7);
  // One class going down is enough, even if the total grew.
  const odd = readingOf(stats(120, { status: { '2xx': 50, '3xx': 0, '4xx': 0, '5xx': 70, error: 0 } }));
  assert.ok(isReset(before, odd));
});

test('other bucket bounds are a reset too; no previous reading: everything is new', () => {
  const a = readingOf(stats(5));
  const b = readingOf(stats(6, { latency: { bounds: [5, 10, 100], counts: [6, 0, 0, 0], sumMs: 1 } }));
  assert.ok(isReset(a, b));
  assert.equal(delta(undefined, a).requests, 5);
});

test('values that are no counts (negative, NaN, strings) read as 0, never poisoning totals', () => {
  const r = readingOf(stats(Number.NaN, { retries: -3, upstreamErrors: 'x' as unknown as number, latency: { bounds: [10], counts: [Infinity], sumMs: -1 } }));
  assert.equal(r.requests, 0);
  assert.equal(r.retries, 0);
  assert.equal(r.upstreamErrors, 0);
  assert.deepEqual(r.buckets, [0, 0]);
  assert.equal(r.sumMs, 0);
});
