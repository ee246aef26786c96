import { test } from 'node:test';
import assert from 'node:assert/strict';
import { retryAfterMs } from './acme-exchange.ts';

test('Retry-After: seconds or an HTTP date, in milliseconds from now; anything else is no answer', () => {
  const now = Date.parse('2026-01-01T00:00:00Z');
  assert.equal(retryAfterMs('120', now), 120_000);
  assert.equal(retryAfterMs(' 0 ', now), 0);
  assert.equal(retryAfterMs('Thu, 01 Jan 2026 01:00:00 GMT', now), 3_600_000);
  assert.equal(retryAfterMs('Wed, 31 Dec 2025 23:00:00 GMT', now), 0, 'a date in the past: now');
  for (const bad of [undefined, '', 'soon', '-5', '1.5', 'x'.repeat(200), 42]) assert.equal(retryAfterMs(bad, now), null, String(bad));
});
