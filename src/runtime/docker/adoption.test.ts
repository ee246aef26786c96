/** adoption.ts, pure: what a new daemon takes over from the containers it finds. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planAdoption, seedRecord, staleRecords } from './adoption.ts';
import { inspectOf, iso, runningInspect, T0 } from './inspect.test-support.ts';
import { LABEL } from './names.ts';
import type { SupervisionState } from './supervision-state.ts';

const of = (id: string) => ({ [LABEL.instance]: id });
const saved: SupervisionState = { version: 1, id: 'ins_saved', state: 'restarting', reason: 'crash', restartAt: 5, restarts: 2, crashes: [1], startedAt: iso(T0) };

test('each container nobody supervises resumes from its saved record, or a seeded one; an expected run is one no daemon watched', () => {
  const containers = [
    runningInspect({ labels: of('ins_new'), restartCount: 4 }),
    inspectOf({ labels: of('ins_saved') }),
    runningInspect({ labels: of('ins_known') }),
    inspectOf({ labels: {} }),
    runningInspect({ labels: of('ins_new') }),
  ];
  const plan = planAdoption(containers, { taken: (id) => id === 'ins_known', saved: (id) => (id === 'ins_saved' ? saved : undefined) });
  assert.deepEqual(
    plan.map((a) => [a.id, a.seeded, a.unwatchedRun, a.record.state]),
    [
      ['ins_new', true, iso(T0), 'running'],
      ['ins_saved', false, undefined, 'restarting'],
    ],
    'one entry per instance; taken and unlabelled containers left out',
  );
  assert.equal(plan[0].container, containers[0]);
  assert.deepEqual(plan[0].record, { version: 1, id: 'ins_new', restarts: 4, crashes: [], state: 'running', startedAt: iso(T0) });
  assert.equal(plan[1].record, saved);
});

test('a seeded record of a stopped container expects it running (its exit is handled as noticed late), unless an older engine policy gave up on it', () => {
  assert.equal(seedRecord('ins_1', inspectOf({ state: { ExitCode: 3 } })).state, 'running');
  const gaveUp = inspectOf({ labels: { [LABEL.maxRestarts]: '2' }, restartCount: 2, state: { ExitCode: 3 } });
  assert.deepEqual(seedRecord('ins_1', gaveUp), { version: 1, id: 'ins_1', restarts: 2, crashes: [], state: 'crashloop', lastExit: { code: 3, signal: null, at: T0 + 60_000 } });
  assert.equal(seedRecord('ins_1', inspectOf({ labels: { [LABEL.maxRestarts]: '2' }, restartCount: 1, state: { ExitCode: 3 } })).state, 'running', 'restarts left');
});

test('records whose container is gone are stale, unless supervised or held', () => {
  const containers = [runningInspect({ labels: of('ins_here') })];
  assert.deepEqual(staleRecords(['ins_here', 'ins_gone', 'ins_held'], containers, (id) => id === 'ins_held'), ['ins_gone']);
});
