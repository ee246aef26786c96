/** supervision-record.ts, pure: each change of an instance's supervision record. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ExitInfo, RestartPolicy } from '../driver.ts';
import { afterCrash, backRunning, freshRecord, stoppedFromOutside } from './supervision-record.ts';
import type { SupervisionState } from './supervision-state.ts';

const policy: RestartPolicy = { maxRestarts: 2, windowMs: 60_000, backoffMs: 1_000, maxBackoffMs: 8_000 };
const exitAt = (at: number, code = 1): ExitInfo => ({ code, signal: null, at });
const running: SupervisionState = { version: 1, id: 'ins_1', state: 'running', restarts: 3, crashes: [], startedAt: 'run-1' };

test('a fresh record runs, with nothing counted', () => {
  assert.deepEqual(freshRecord('ins_1', 'run-1'), { version: 1, id: 'ins_1', state: 'running', restarts: 0, crashes: [], startedAt: 'run-1' });
});

test('a crash waits out the back-off, due at exit time + delay; the delay doubles with crashes in the window', () => {
  const first = afterCrash(running, policy, exitAt(10_000));
  assert.deepEqual(first.state, { ...running, state: 'restarting', reason: 'crash', restartAt: 11_000, crashes: [10_000], lastExit: exitAt(10_000) });
  assert.deepEqual(first.plan.decision, { action: 'restart', delayMs: 1_000 });
  assert.deepEqual(first.plan.events, [{ type: 'exited', id: 'ins_1', exit: exitAt(10_000), willRestart: true, restarts: 3 }]);
  const second = afterCrash(backRunning(first.state, 'run-2'), policy, exitAt(12_000));
  assert.equal(second.state.restartAt, 14_000);
  assert.equal(second.state.restarts, 4);
});

test('more crashes than the policy allows in its window: a crash loop, with no restart pending', () => {
  const looping = afterCrash({ ...running, crashes: [1_000, 2_000], state: 'restarting', reason: 'crash', restartAt: 3_000 }, policy, exitAt(5_000, 3));
  assert.deepEqual(looping.state, { version: 1, id: 'ins_1', state: 'crashloop', restarts: 3, crashes: [1_000, 2_000, 5_000], startedAt: 'run-1', lastExit: exitAt(5_000, 3) });
  assert.deepEqual(looping.plan.events.map((e) => e.type), ['exited', 'crashloop']);
});

test('stopped from outside: due at once, with the exit kept and nothing counted', () => {
  assert.deepEqual(stoppedFromOutside(running, exitAt(9_000, 143), 9_500), { ...running, state: 'restarting', reason: 'outside', restartAt: 9_500, lastExit: exitAt(9_000, 143) });
});

test('back running: one more restart only after a crash; the pending restart is dropped', () => {
  const cases: [from: SupervisionState, restarts: number][] = [
    [{ ...running, state: 'restarting', reason: 'crash', restartAt: 1 }, 4],
    [{ ...running, state: 'restarting', reason: 'outside', restartAt: 1 }, 3],
    [{ ...running, state: 'crashloop' }, 3],
    [running, 3],
  ];
  for (const [from, restarts] of cases) {
    const back = backRunning(from, 'run-2');
    assert.deepEqual(back, { version: 1, id: 'ins_1', state: 'running', restarts, crashes: [], startedAt: 'run-2' }, `from ${from.state} (${from.reason})`);
  }
});
