/** services.ts, pure parts: which services resume() starts again, and when it stops waiting for one. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ContainerSummary } from './engine.ts';
import { inspectOf, runningInspect } from './inspect.test-support.ts';
import { healthSettled, isStopped } from './services.ts';

test('stopped services (exited, or created and never started) are started again; others are left alone', () => {
  const summary = (State: string): ContainerSummary => ({ Id: State, Names: [], Image: 'redis:7', Labels: {}, State, Status: '' });
  assert.deepEqual(['exited', 'created', 'running', 'restarting', 'paused', 'dead'].map(summary).filter(isStopped).map((c) => c.Id), ['exited', 'created']);
});

test('resume() waits for a service only while it runs and its health check has not decided', () => {
  assert.equal(healthSettled(undefined), true, 'gone');
  assert.equal(healthSettled(inspectOf()), true, 'not running');
  assert.equal(healthSettled(runningInspect()), true, 'no health check');
  assert.equal(healthSettled(runningInspect({ state: { Health: { Status: 'healthy' } } })), true);
  assert.equal(healthSettled(runningInspect({ state: { Health: { Status: 'unhealthy' } } })), true, 'the instances\' own gates will say so');
  assert.equal(healthSettled(runningInspect({ state: { Health: { Status: 'starting' } } })), false);
});
