/** checks.ts: the fake's health checks and one-off runs answer as the artifact's behaviour scripts them. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../lib/clock.ts';
import type { OneOffSpec } from '../driver.ts';
import type { FakeBehaviour } from './behaviour.ts';
import { fakeHealth, runFakeOneOff } from './checks.ts';
import type { FakeInstance } from './state.ts';

const instance = (behaviour: FakeBehaviour, overrides: Partial<FakeInstance> = {}): FakeInstance => ({
  spec: { id: 'i1', app: 'a', release: 'r1', process: 'worker', artifact: 'fake://a/b1', command: 'node worker.js', env: {}, port: false, restart: { maxRestarts: 1, windowMs: 1, backoffMs: 1, maxBackoffMs: 1 }, stopTimeoutMs: 1_000, secrets: [] },
  behaviour,
  state: 'running',
  port: null,
  restarts: 0,
  crashes: [],
  process: null,
  processStartedAt: 1_000,
  stopping: false,
  ...overrides,
});

test('an instance that does not run fails every check', () => {
  const check = { command: 'exit 0', timeoutMs: 1_000 };
  assert.deepEqual(fakeHealth('i1', undefined, check, 0), { ok: false, detail: 'instance i1 is not running' });
  assert.deepEqual(fakeHealth('i1', instance({}, { state: 'restarting' }), check, 0), { ok: false, detail: 'instance i1 is not running' });
});

test('a heartbeat is fresh for its own file until the process hangs', () => {
  const hangs = instance({ heartbeatFile: '/tmp/beat', hangAfterMs: 5_000 });
  const heartbeat = (file: string) => ({ heartbeat: { file, maxAgeMs: 10_000 }, timeoutMs: 1_000 });
  assert.deepEqual(fakeHealth('i1', hangs, heartbeat('/tmp/beat'), 6_000), { ok: true, detail: 'heartbeat fresh' });
  assert.deepEqual(fakeHealth('i1', hangs, heartbeat('/tmp/beat'), 6_001), { ok: false, detail: 'heartbeat /tmp/beat is stale' });
  assert.deepEqual(fakeHealth('i1', hangs, heartbeat('/tmp/other'), 0), { ok: false, detail: 'heartbeat /tmp/other does not exist yet' });
  assert.deepEqual(fakeHealth('i1', instance({ heartbeatFile: '/tmp/beat' }), heartbeat('/tmp/beat'), 1e12), { ok: true, detail: 'heartbeat fresh' }, 'never hangs');
});

test('a check command `exit N` exits N; any other says what the behaviour says', () => {
  const command = (c: string) => ({ command: c, timeoutMs: 1_000 });
  assert.deepEqual(fakeHealth('i1', instance({ check: 'fail' }), command('exit 0'), 0), { ok: true, detail: 'exited 0' });
  assert.deepEqual(fakeHealth('i1', instance({}), command('exit 3'), 0), { ok: false, detail: 'exited with code 3' });
  assert.deepEqual(fakeHealth('i1', instance({ check: 'fail' }), command('pg_isready'), 0), { ok: false, detail: 'the check failed' });
  assert.deepEqual(fakeHealth('i1', instance({}), command('pg_isready'), 0), { ok: true, detail: 'ok' });
});

test('a one-off run prints its lines (expanded, masked), takes its time on the clock, and times out past its limit', async () => {
  const clock = new ManualClock(0);
  const artifact = { behaviour: { oneOff: { migrate: { output: ['db=${DATABASE_URL}'], delayMs: 500, exitCode: 2 }, hang: { delayMs: 5_000 } } } satisfies FakeBehaviour };
  const lines: string[] = [];
  const spec = (command: string): OneOffSpec => ({
    id: 'run1',
    app: 'a',
    release: 'r1',
    artifact: 'fake://a/b1',
    command,
    env: { DATABASE_URL: 'postgres://s3cret@db' },
    secrets: ['s3cret'],
    timeoutMs: 1_000,
    signal: new AbortController().signal,
    onLine: (line) => lines.push(`${line.stream}: ${line.line}`),
  });
  let done: unknown;
  const migrating = runFakeOneOff(artifact, spec('migrate'), clock).then((r) => (done = r));
  await clock.advance(499);
  assert.equal(done, undefined);
  await clock.advance(1);
  await migrating;
  assert.deepEqual(done, { exitCode: 2, timedOut: false });
  assert.equal(lines.length, 1);
  assert.ok(!lines[0].includes('s3cret') && lines[0].startsWith('stdout: db=postgres://'), lines[0]);

  const hanging = runFakeOneOff(artifact, spec('hang'), clock);
  await clock.advance(1_000);
  assert.deepEqual(await hanging, { exitCode: null, timedOut: true });
  assert.deepEqual(await runFakeOneOff(artifact, spec('anything else'), clock), { exitCode: 0, timedOut: false });
  await assert.rejects(runFakeOneOff(undefined, spec('migrate'), clock), /does not exist/);
});
