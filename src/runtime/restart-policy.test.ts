import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decideRestart, planAfterExit, recentCrashes } from './restart-policy.ts';
import type { RestartPolicy } from './driver.ts';

const policy: RestartPolicy = { maxRestarts: 3, windowMs: 60_000, backoffMs: 1_000, maxBackoffMs: 5_000 };

test('decideRestart: back-off doubles per crash in the window, is capped, and turns into a crash loop', () => {
  const cases: { name: string; crashes: number[]; now: number; expected: ReturnType<typeof decideRestart> }[] = [
    { name: 'first crash', crashes: [100_000], now: 100_000, expected: { action: 'restart', delayMs: 1_000 } },
    { name: 'second crash', crashes: [90_000, 100_000], now: 100_000, expected: { action: 'restart', delayMs: 2_000 } },
    { name: 'third crash', crashes: [80_000, 90_000, 100_000], now: 100_000, expected: { action: 'restart', delayMs: 4_000 } },
    {
      name: 'fourth crash exceeds maxRestarts=3',
      crashes: [70_000, 80_000, 90_000, 100_000],
      now: 100_000,
      expected: { action: 'crashloop' },
    },
    {
      name: 'old crashes fall out of the window',
      crashes: [10_000, 20_000, 30_000, 100_000],
      now: 100_000,
      expected: { action: 'restart', delayMs: 1_000 },
    },
    {
      name: 'a crash exactly windowMs ago no longer counts',
      crashes: [40_000, 100_000],
      now: 100_000,
      expected: { action: 'restart', delayMs: 1_000 },
    },
    {
      name: 'crashes in the future (clock went back) are ignored',
      crashes: [200_000, 100_000],
      now: 100_000,
      expected: { action: 'restart', delayMs: 1_000 },
    },
  ];
  for (const c of cases) assert.deepEqual(decideRestart({ policy, crashes: c.crashes, now: c.now }), c.expected, c.name);
});

test('decideRestart: the cap applies before the crash loop when maxRestarts is large', () => {
  const wide: RestartPolicy = { maxRestarts: 100, windowMs: 1_000_000, backoffMs: 1_000, maxBackoffMs: 5_000 };
  const crashes = Array.from({ length: 10 }, (_, i) => 1_000 + i);
  assert.deepEqual(decideRestart({ policy: wide, crashes, now: 2_000 }), { action: 'restart', delayMs: 5_000 });
  const many = Array.from({ length: 2_000 }, (_, i) => i);
  const huge: RestartPolicy = { ...wide, maxRestarts: 10_000 };
  assert.deepEqual(decideRestart({ policy: huge, crashes: many, now: 2_000 }), { action: 'restart', delayMs: 5_000 });
});

test('decideRestart: maxRestarts 0 means the first crash is already a crash loop', () => {
  assert.deepEqual(decideRestart({ policy: { ...policy, maxRestarts: 0 }, crashes: [5], now: 5 }), { action: 'crashloop' });
});

test('recentCrashes keeps only the window, sorted', () => {
  assert.deepEqual(recentCrashes({ policy, crashes: [99_000, 10_000, 50_000], now: 100_000 }), [50_000, 99_000]);
});

test('planAfterExit: emits exited with willRestart, then crashloop when giving up', () => {
  const exit = { code: 3, signal: null, at: 100_000 };
  const first = planAfterExit({ id: 'i1', policy, crashes: [], restarts: 0, exit });
  assert.deepEqual(first.decision, { action: 'restart', delayMs: 1_000 });
  assert.deepEqual(first.crashes, [100_000]);
  assert.deepEqual(first.events, [{ type: 'exited', id: 'i1', exit, willRestart: true, restarts: 0 }]);

  const last = planAfterExit({ id: 'i1', policy, crashes: [1_000, 97_000, 98_000, 99_000], restarts: 3, exit });
  assert.deepEqual(last.decision, { action: 'crashloop' });
  assert.deepEqual(last.crashes, [97_000, 98_000, 99_000, 100_000], 'crashes outside the window are dropped');
  assert.deepEqual(last.events, [
    { type: 'exited', id: 'i1', exit, willRestart: false, restarts: 3 },
    { type: 'crashloop', id: 'i1', restarts: 3, exit },
  ]);
});
