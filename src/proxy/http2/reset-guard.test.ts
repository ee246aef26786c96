import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ResetGuard } from './reset-guard.ts';

test('reset guard: a burst is allowed, then only the refill rate', () => {
  const guard = new ResetGuard({ burst: 5, perSecond: 2 }, 0);
  for (let i = 0; i < 5; i++) assert.equal(guard.allow(0), true, `reset ${i} within the burst`);
  assert.equal(guard.allow(0), false, 'the 6th at once is too many');
  assert.equal(guard.allow(400), false, '0.8 token after 400 ms');
  assert.equal(guard.allow(500), true, 'one token back after 500 ms');
  assert.equal(guard.allow(500), false);
});

test('reset guard: steady resets below the rate never trip it; the bucket never holds more than the burst', () => {
  const guard = new ResetGuard({ burst: 3, perSecond: 10 }, 0);
  for (let t = 0; t < 60_000; t += 150) assert.equal(guard.allow(t), true, `at ${t} ms`);
  const rested = new ResetGuard({ burst: 3, perSecond: 10 }, 0);
  let allowed = 0;
  while (rested.allow(3_600_000)) allowed++;
  assert.equal(allowed, 3);
});

test('reset guard: a clock stepping back is no refill', () => {
  const guard = new ResetGuard({ burst: 1, perSecond: 1 }, 10_000);
  assert.equal(guard.allow(10_000), true);
  assert.equal(guard.allow(5_000), false);
  assert.equal(guard.allow(5_999), false);
  assert.equal(guard.allow(6_000), true);
});
