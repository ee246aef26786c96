/** exit-evidence.ts, pure: which exits are crashes and which are the engine's (or someone else's) doing. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ExitEvidence, exitFacts, looksLikeEngineStop, mayTurnOutOom, signalNumber, type ExitFacts } from './exit-evidence.ts';
import { inspectOf, iso, T0 } from './inspect.test-support.ts';

/** A run that started at T0 and exited at T0 + 60 s with `code`; stop timeout 10 s. */
const facts = (overrides: Partial<ExitFacts> = {}): ExitFacts => ({ startedAt: iso(T0), startedMs: T0, at: T0 + 60_000, code: 1, stopTimeoutMs: 10_000, ...overrides });

test('the facts of an exit come from the container; the engine zero time and a missing finish are read sensibly', () => {
  assert.deepEqual(exitFacts(inspectOf({ state: { ExitCode: 143 }, stopTimeout: 3, stopSignal: 'SIGINT' }), 5), {
    startedAt: iso(T0),
    startedMs: T0,
    at: T0 + 60_000,
    code: 143,
    stopTimeoutMs: 3_000,
    stopSignal: 'SIGINT',
  });
  const zero = exitFacts(inspectOf({ state: { StartedAt: '0001-01-01T00:00:00Z', FinishedAt: '0001-01-01T00:00:00Z' } }), 42);
  assert.equal(zero.startedMs, 0);
  assert.equal(zero.at, 42, 'no finish time: now');
  assert.equal(zero.stopTimeoutMs, 10_000, 'the engine default stop timeout');
  assert.equal('stopSignal' in zero, false);
});

test('only a memory-limited container exiting 137 may still turn out to be out of memory', () => {
  assert.equal(mayTurnOutOom(inspectOf({ state: { ExitCode: 137 }, memory: 128 * 1024 * 1024 })), true);
  assert.equal(mayTurnOutOom(inspectOf({ state: { ExitCode: 137 } })), false, 'no limit: a SIGKILL from anywhere');
  assert.equal(mayTurnOutOom(inspectOf({ state: { ExitCode: 1 }, memory: 1024 })), false);
});

test('the engine stop has three shapes: 0, 128 + the stop signal, 137 unless out of memory', () => {
  const cases: [code: number, stopSignal: string | undefined, oom: boolean, engineStop: boolean][] = [
    [0, undefined, false, true],
    [143, undefined, false, true],
    [137, undefined, false, true],
    [137, undefined, true, false],
    [130, 'SIGINT', false, true],
    [130, 'INT', false, true],
    [130, '2', false, true],
    [143, 'SIGINT', false, false],
    [1, undefined, false, false],
    [3, undefined, false, false],
    [139, undefined, false, false],
    [0, undefined, true, false],
  ];
  for (const [code, stopSignal, oom, engineStop] of cases) {
    assert.equal(looksLikeEngineStop({ code, ...(stopSignal ? { stopSignal } : {}) }, oom), engineStop, `code ${code}, stop signal ${stopSignal}, oom ${oom}`);
  }
  assert.equal(signalNumber(' sigquit '), 3);
  assert.equal(signalNumber('NOPE'), 15, 'unknown: SIGTERM');
  assert.equal(signalNumber(undefined), 15);
});

test('with nothing noted, every exit is a crash', () => {
  const evidence = new ExitEvidence();
  for (const code of [0, 1, 137, 143]) assert.deepEqual(evidence.judge('i1', facts({ code }), false), { outside: false });
});

test('a kill berth did not send, during this run and within the stop timeout (+ slack) of the exit, is a stop from outside', () => {
  const at = T0 + 60_000;
  const cases: [killedAt: number, outside: boolean][] = [
    [at - 1_000, true],
    [at - 10_000 - 5_000, true],
    [at - 10_000 - 5_001, false],
    [T0 - 1, false],
  ];
  for (const [killedAt, outside] of cases) {
    const evidence = new ExitEvidence();
    evidence.kill('i1', killedAt);
    assert.deepEqual(evidence.judge('i1', facts(), false), outside ? { outside: true, cause: 'kill' } : { outside: false }, `kill at exit ${killedAt - at} ms`);
  }
});

test('a stop berth asked for (restart()) is a crash, whatever kill comes with it; a refused one leaves no trace', () => {
  const evidence = new ExitEvidence();
  evidence.stopAsked('i1', iso(T0));
  evidence.kill('i1', T0 + 59_000);
  assert.deepEqual(evidence.judge('i1', facts(), false), { outside: false });

  evidence.stopAsked('i1', iso(T0));
  evidence.stopNotSent('i1');
  evidence.kill('i1', T0 + 59_000);
  assert.deepEqual(evidence.judge('i1', facts(), false), { outside: true, cause: 'kill' });

  // While a stop is asked, no kill is noted (it may be berth's own), even when the exit is of another run.
  evidence.stopAsked('i1', iso(T0 - 1_000));
  evidence.kill('i1', T0 + 59_000);
  assert.deepEqual(evidence.judge('i1', facts(), false), { outside: false });
});

test('exits from shortly before the stream was lost until the resync are the engine going away', () => {
  const lostAt = T0 + 60_000;
  const evidence = new ExitEvidence();
  evidence.streamLost(lostAt);
  assert.deepEqual(evidence.judge('i1', facts({ at: lostAt - 5_000 }), false), { outside: true, cause: 'engine outage' });
  assert.deepEqual(evidence.judge('i1', facts({ at: lostAt - 5_001 }), false), { outside: false });
  assert.deepEqual(evidence.judge('i1', facts({ at: lostAt + 600_000 }), false), { outside: true, cause: 'engine outage' }, 'no resync yet');
  evidence.streamLost(lostAt + 1_000);
  assert.deepEqual(evidence.judge('i1', facts({ at: lostAt - 4_000 }), false), { outside: true, cause: 'engine outage' }, 'a second loss before the resync extends the first');
  evidence.resynced(lostAt + 10_000);
  evidence.resynced(lostAt + 20_000);
  assert.deepEqual(evidence.judge('i1', facts({ at: lostAt + 10_000 }), false), { outside: true, cause: 'engine outage' });
  assert.deepEqual(evidence.judge('i1', facts({ at: lostAt + 10_001 }), false), { outside: false }, 'after the (first) resync: a crash');
  evidence.streamLost(lostAt + 30_000);
  assert.deepEqual(evidence.judge('i1', facts({ at: lostAt + 20_000 }), false), { outside: false }, 'a new outage starts at its own loss');
  assert.deepEqual(evidence.judge('i1', facts({ at: lostAt + 26_000 }), false), { outside: true, cause: 'engine outage' });
});

test('an unwatched run that ended in the shape of the engine stop is no crash; other codes, or a watched run, are', () => {
  const evidence = new ExitEvidence();
  const judgeUnwatched = (code: number, oom = false) => {
    evidence.unwatchedRun('i1', iso(T0));
    return evidence.judge('i1', facts({ code }), oom);
  };
  assert.deepEqual(judgeUnwatched(143), { outside: true, cause: 'stopped while no daemon watched' });
  assert.deepEqual(judgeUnwatched(0), { outside: true, cause: 'stopped while no daemon watched' });
  assert.deepEqual(judgeUnwatched(137), { outside: true, cause: 'stopped while no daemon watched' });
  assert.deepEqual(judgeUnwatched(137, true), { outside: false }, 'out of memory: a crash');
  assert.deepEqual(judgeUnwatched(3), { outside: false });

  evidence.unwatchedRun('i1', iso(T0));
  evidence.watched('i1');
  assert.deepEqual(evidence.judge('i1', facts({ code: 143 }), false), { outside: false }, 'seen running since: a watched run');
  evidence.unwatchedRun('i1', iso(T0 - 1));
  assert.deepEqual(evidence.judge('i1', facts({ code: 143 }), false), { outside: false }, 'another run than the one adopted');
});

test('a kill takes precedence over an outage in the cause; judging uses up what was noted for the instance only', () => {
  const evidence = new ExitEvidence();
  evidence.streamLost(T0 + 60_000);
  evidence.kill('i1', T0 + 59_000);
  evidence.kill('i2', T0 + 59_000);
  evidence.oom('i1', T0 + 1);
  evidence.oom('i2', T0 + 1);
  assert.deepEqual(evidence.judge('i1', facts(), false), { outside: true, cause: 'kill' });
  assert.equal(evidence.oomSince('i1', T0), false, 'used up');
  assert.equal(evidence.oomSince('i2', T0), true);
  assert.equal(evidence.oomSince('i2', T0 + 2), false, 'an oom of an earlier run');
  evidence.forget('i2');
  assert.deepEqual(evidence.judge('i2', facts({ at: T0 + 120_000 }), false), { outside: true, cause: 'engine outage' }, 'its kill is forgotten; the outage is no one instance\'s');
});
