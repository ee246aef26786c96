import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../lib/clock.ts';
import { waitHealthy } from './gate.ts';
import type { ProbeResult } from './probe.ts';

const scripted = (results: boolean[], clock: ManualClock) => {
  const at: number[] = [];
  let i = 0;
  return {
    at,
    probe: async (): Promise<ProbeResult> => {
      at.push(clock.now());
      const ok = results[Math.min(i++, results.length - 1)];
      return ok ? { ok, status: 200, ms: 1 } : { ok, status: 503, error: 'answered 503', ms: 1 };
    },
  };
};

/** Runs the gate while advancing the manual clock, so no test ever sleeps. */
async function drive(clock: ManualClock, run: Promise<void>): Promise<unknown> {
  let outcome: unknown = 'pending';
  run.then(
    () => (outcome = 'healthy'),
    (error) => (outcome = error),
  );
  await new Promise((r) => setImmediate(r)); // let the gate reach its first sleep
  for (let i = 0; i < 1000 && outcome === 'pending'; i++) await clock.advance(100);
  return outcome;
}

test('healthy after N consecutive successes, probed every interval', async () => {
  const clock = new ManualClock();
  const s = scripted([false, true, false, true, true], clock);
  const outcome = await drive(clock, waitHealthy({ probe: s.probe, clock, intervalMs: 1000, healthyAfter: 2, deadlineMs: 60_000 }));
  assert.equal(outcome, 'healthy');
  assert.equal(s.at.length, 5);
  assert.deepEqual(s.at.slice(1).map((t, i) => t - s.at[i]), [1000, 1000, 1000, 1000]);
});

test('fails with HEALTH_CHECK_FAILED at the deadline, naming the last failure', async () => {
  const clock = new ManualClock();
  const s = scripted([false], clock);
  const outcome = (await drive(clock, waitHealthy({ probe: s.probe, clock, intervalMs: 1000, healthyAfter: 1, deadlineMs: 5000 }))) as { code: string; message: string };
  assert.equal(outcome.code, 'HEALTH_CHECK_FAILED');
  assert.match(outcome.message, /answered 503/);
  assert.ok(s.at.length >= 5 && s.at.length <= 6, `probed ${s.at.length} times`);
});

test('fails at once with START_FAILED when the instance exits', async () => {
  const clock = new ManualClock();
  const s = scripted([false], clock);
  let exited: string | undefined;
  const run = waitHealthy({ probe: s.probe, clock, intervalMs: 1000, healthyAfter: 1, deadlineMs: 60_000, gone: () => exited });
  await clock.advance(1000);
  exited = 'exited with code 7';
  const outcome = (await drive(clock, run)) as { code: string; message: string };
  assert.equal(outcome.code, 'START_FAILED');
  assert.match(outcome.message, /code 7/);
  assert.ok(s.at.length <= 3);
});

test('an abort stops the gate', async () => {
  const clock = new ManualClock();
  const s = scripted([false], clock);
  const controller = new AbortController();
  const run = waitHealthy({ probe: s.probe, clock, intervalMs: 1000, healthyAfter: 1, deadlineMs: 60_000, signal: controller.signal });
  controller.abort(new Error('cancelled'));
  const outcome = (await drive(clock, run)) as Error;
  assert.equal(outcome.message, 'cancelled');
});
