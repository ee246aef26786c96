import { test } from 'node:test';
import assert from 'node:assert/strict';
import { zeroReading } from './counters.ts';
import { INTERVAL_MS, SeriesRing, SPAN_MS } from './ring.ts';

const BOUNDS = [10, 100];
const hit = (requests: number, fiveXx = 0) => {
  const r = zeroReading(BOUNDS);
  r.requests = requests;
  r.status['2xx'] = requests - fiveXx;
  r.status['5xx'] = fiveXx;
  r.buckets = [requests, 0, 0];
  r.sumMs = requests;
  return r;
};

test('windows sum the intervals they cover; older ones fall out', () => {
  const ring = new SeriesRing(BOUNDS);
  const t0 = 1_000_000 * INTERVAL_MS;
  for (let i = 0; i < 24; i++) ring.add(t0 + i * INTERVAL_MS, hit(10, 1)); // 2 minutes, 10 per 5 s
  const now = t0 + 23 * INTERVAL_MS;
  assert.equal(ring.sum(now, 60_000).requests, 120); // 12 intervals
  assert.equal(ring.sum(now, 60_000).status['5xx'], 12);
  assert.equal(ring.sum(now, 300_000).requests, 240);
  assert.equal(ring.sum(now + 60_000, 60_000).requests, 0);
});

test('a slot from an earlier lap reads as empty; memory is fixed whatever the traffic', () => {
  const ring = new SeriesRing(BOUNDS);
  const bytes = ring.bytes;
  const t0 = 5_000_000;
  ring.add(t0, hit(5));
  ring.add(t0 + SPAN_MS, hit(3)); // the same slot, one lap later
  assert.equal(ring.sum(t0 + SPAN_MS, SPAN_MS).requests, 3);
  for (let i = 0; i < 5000; i++) ring.add(t0 + i * 1000, hit(1));
  assert.equal(ring.bytes, bytes);
  assert.ok(bytes < 80 * 1024, `${bytes} bytes per series`);
});
