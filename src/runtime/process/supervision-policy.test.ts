/** supervision-policy.ts, pure: how an instance's record changes, and what adopt() does with one. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ExitInfo } from '../driver.ts';
import type { InstanceState } from './state-file.ts';
import { adoptionStep, afterExit, relaunched } from './supervision-policy.ts';

const spec = {
  id: 'ins_1',
  app: 'shop',
  release: 'r1',
  process: 'web',
  artifact: '/builds/b1',
  command: 'node server.js',
  env: {},
  port: true,
  restart: { maxRestarts: 1, windowMs: 60_000, backoffMs: 1_000, maxBackoffMs: 5_000 },
  stopTimeoutMs: 1_000,
  secrets: [],
};
const running: InstanceState = { version: 1, spec, state: 'running', pid: 4242, startTime: 99, port: 3000, restarts: 2, crashes: [], startedAt: 1 };
const exitAt = (at: number): ExitInfo => ({ code: 1, signal: null, at });

test('an exit: the process is gone from the record; restarting after the back-off, due at exit time + delay', () => {
  const { state, plan } = afterExit(running, exitAt(10_000));
  assert.deepEqual(state, { ...running, pid: null, startTime: null, crashes: [10_000], lastExit: exitAt(10_000), state: 'restarting', restartAt: 11_000 });
  assert.deepEqual(plan.events, [{ type: 'exited', id: 'ins_1', exit: exitAt(10_000), willRestart: true, restarts: 2 }]);
  assert.equal(state.port, 3000, 'the port is kept, to be had again if free');
});

test('more crashes than the policy allows in its window: a crash loop, with no restart pending', () => {
  const { state, plan } = afterExit({ ...running, crashes: [9_000], restartAt: 9_500 }, exitAt(10_000));
  assert.equal(state.state, 'crashloop');
  assert.equal('restartAt' in state, false);
  assert.deepEqual(state.crashes, [9_000, 10_000]);
  assert.deepEqual(plan.events.map((e) => e.type), ['exited', 'crashloop']);
});

test('relaunched: running, one more restart, nothing pending', () => {
  const back = relaunched({ ...running, state: 'restarting', restartAt: 11_000, pid: 5000 });
  assert.deepEqual(back, { ...running, pid: 5000, restarts: 3 });
  assert.equal('restartAt' in back, false);
});

test('adopt(): a crash loop is left, a pending restart resumed, a live process watched, a dead one handled as an exit', () => {
  const asked: number[] = [];
  const alive = (answer: boolean) => (pid: number) => {
    asked.push(pid);
    return answer;
  };
  assert.equal(adoptionStep({ ...running, state: 'crashloop' }, alive(true)), 'leave');
  assert.equal(adoptionStep({ ...running, state: 'restarting' }, alive(true)), 'restart');
  assert.deepEqual(asked, [], 'liveness is asked only of a record that expects a process');
  assert.equal(adoptionStep(running, alive(true)), 'watch');
  assert.equal(adoptionStep(running, alive(false)), 'exited');
  assert.equal(adoptionStep({ ...running, pid: null }, alive(true)), 'exited', 'no process was ever recorded');
  assert.deepEqual(asked, [4242, 4242]);
});
