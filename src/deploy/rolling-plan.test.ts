import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { planRolling, type RollingInput } from './rolling-plan.ts';

/**
 * Plays a plan out, instance by instance, and checks both bounds at every moment: while a batch starts
 * (old ones retired first have stopped, new ones run but do not serve yet) and after it serves.
 */
function playOut(input: RollingInput) {
  const batches = planRolling(input);
  const { replicas: n, maxSurge: s, maxUnavailable: u } = input;
  let fresh = input.current;
  let outgoing = input.outgoing;
  const ceiling = Math.max(n + s, fresh + outgoing);
  const floor = Math.min(n - u, fresh + outgoing);
  let minServing = fresh + outgoing;
  let maxRunning = fresh + outgoing;
  for (const [i, b] of batches.entries()) {
    assert.ok(b.retireBefore <= outgoing && b.retireBefore >= 0, `batch ${i}: retires ${b.retireBefore} of ${outgoing} before`);
    outgoing -= b.retireBefore;
    const serving = fresh + outgoing;
    const running = serving + b.start;
    minServing = Math.min(minServing, serving);
    maxRunning = Math.max(maxRunning, running);
    assert.equal(b.gap, serving === 0 && b.retireBefore > 0, `batch ${i}: gap flag`);
    fresh += b.start;
    assert.ok(b.retireAfter <= outgoing && b.retireAfter >= 0, `batch ${i}: retires ${b.retireAfter} of ${outgoing} after`);
    outgoing -= b.retireAfter;
    minServing = Math.min(minServing, fresh + outgoing);
    assert.ok(b.start > 0 || (i === batches.length - 1 && b.retireAfter > 0), `batch ${i} makes progress`);
  }
  return { batches, fresh, outgoing, ceiling, floor, minServing, maxRunning };
}

describe('rolling plan', () => {
  test('every (replicas, old, surge, unavailable) up to 8/10/4/4 ends on the new release within both bounds', () => {
    let cases = 0;
    for (let n = 0; n <= 8; n++) {
      for (let old = 0; old <= 10; old++) {
        for (let s = 0; s <= 4; s++) {
          for (let u = 0; u <= 4; u++) {
            if (s + u < 1) continue;
            const input = { replicas: n, current: 0, outgoing: old, maxSurge: s, maxUnavailable: u };
            const out = playOut(input);
            const label = JSON.stringify(input);
            assert.equal(out.fresh, n, `${label}: ends with the replicas`);
            assert.equal(out.outgoing, 0, `${label}: every old instance retired`);
            assert.ok(out.maxRunning <= out.ceiling, `${label}: ran ${out.maxRunning} > ${out.ceiling}`);
            assert.ok(out.minServing >= Math.max(0, out.floor), `${label}: served ${out.minServing} < ${out.floor}`);
            // No slower than batches of surge + unavailable once the old ones are at the replicas.
            if (old === n && n > 0) assert.ok(out.batches.length <= Math.ceil(n / (s + u)), `${label}: ${out.batches.length} batches`);
            cases++;
          }
        }
      }
    }
    assert.ok(cases > 2000);
  });

  test('a rollback (some of the wanted release still serving) keeps the same bounds', () => {
    for (let n = 1; n <= 6; n++) {
      for (let current = 0; current <= n; current++) {
        for (let outgoing = 0; outgoing <= n; outgoing++) {
          for (const [s, u] of [[1, 0], [0, 1], [2, 1], [1, 2]] as const) {
            const input = { replicas: n, current, outgoing, maxSurge: s, maxUnavailable: u };
            const out = playOut(input);
            assert.equal(out.fresh, Math.max(n, current), JSON.stringify(input));
            assert.equal(out.outgoing, 0, JSON.stringify(input));
            assert.ok(out.maxRunning <= out.ceiling && out.minServing >= Math.max(0, out.floor), JSON.stringify(input));
          }
        }
      }
    }
  });

  test('three web replicas: surge 1 goes one by one, retiring after; unavailable 1 retires first', () => {
    assert.deepEqual(planRolling({ replicas: 3, current: 0, outgoing: 3, maxSurge: 1, maxUnavailable: 0 }), [
      { retireBefore: 0, start: 1, retireAfter: 1, gap: false },
      { retireBefore: 0, start: 1, retireAfter: 1, gap: false },
      { retireBefore: 0, start: 1, retireAfter: 1, gap: false },
    ]);
    assert.deepEqual(planRolling({ replicas: 3, current: 0, outgoing: 3, maxSurge: 0, maxUnavailable: 1 }), [
      { retireBefore: 1, start: 1, retireAfter: 0, gap: false },
      { retireBefore: 1, start: 1, retireAfter: 0, gap: false },
      { retireBefore: 1, start: 1, retireAfter: 0, gap: false },
    ]);
    assert.deepEqual(planRolling({ replicas: 4, current: 0, outgoing: 4, maxSurge: 1, maxUnavailable: 1 }), [
      { retireBefore: 1, start: 2, retireAfter: 1, gap: false },
      { retireBefore: 1, start: 2, retireAfter: 1, gap: false },
    ]);
  });

  test('one replica replaced in place has a gap, and says so; a process gone only retires', () => {
    assert.deepEqual(planRolling({ replicas: 1, current: 0, outgoing: 1, maxSurge: 0, maxUnavailable: 1 }), [{ retireBefore: 1, start: 1, retireAfter: 0, gap: true }]);
    assert.deepEqual(planRolling({ replicas: 0, current: 0, outgoing: 2, maxSurge: 1, maxUnavailable: 0 }), [{ retireBefore: 0, start: 0, retireAfter: 2, gap: false }]);
    assert.deepEqual(planRolling({ replicas: 0, current: 0, outgoing: 0, maxSurge: 1, maxUnavailable: 0 }), []);
  });

  test('scaling up starts into the free room at once; scaling down retires first', () => {
    assert.deepEqual(planRolling({ replicas: 4, current: 0, outgoing: 1, maxSurge: 1, maxUnavailable: 0 }), [
      { retireBefore: 0, start: 4, retireAfter: 1, gap: false },
    ]);
    const down = planRolling({ replicas: 1, current: 0, outgoing: 4, maxSurge: 1, maxUnavailable: 0 });
    assert.deepEqual(down, [{ retireBefore: 3, start: 1, retireAfter: 1, gap: false }], "down to replicas + surge before the start");
  });

  test('inputs that are not whole numbers, or no room at all, are refused', () => {
    assert.throws(() => planRolling({ replicas: 3, current: 0, outgoing: 3, maxSurge: 0, maxUnavailable: 0 }), /at least 1/);
    assert.throws(() => planRolling({ replicas: -1, current: 0, outgoing: 3, maxSurge: 1, maxUnavailable: 0 }), /replicas/);
    assert.throws(() => planRolling({ replicas: 2, current: 0, outgoing: 1.5, maxSurge: 1, maxUnavailable: 0 }), /outgoing/);
  });
});
