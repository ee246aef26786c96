import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createMasker } from '../runtime/mask-secrets.ts';
import { afterCheck, appChange, appHealth, checkDetail, MAX_DETAIL, type InstanceHealthStatus } from './health-state.ts';
import { afterProbe, type MonitorState } from './monitor.ts';

/** Runs results through the monitor's verdict and afterCheck together, as the monitor does; returns each step's state and change. */
function run(results: boolean[], start: InstanceHealthStatus = { state: 'unknown', failures: 0 }) {
  let monitor: MonitorState = { failures: 0, unhealthy: false, nextAt: 0 };
  let health = start;
  return results.map((ok, i) => {
    const verdict = afterProbe(monitor, ok, i, 1);
    monitor = verdict.state;
    const next = afterCheck(health, ok, verdict.verdict === 'unhealthy');
    health = next.status;
    return `${health.state}/${health.failures}${next.change ? `:${next.change}` : ''}`;
  });
}

test('an instance: unknown until a check passes, degraded at the third failure in a row, healthy again at the next pass', () => {
  assert.deepEqual(run([true, false, false, true, false, false, false, false, false, false, false, true, true]), [
    'healthy/0',
    'healthy/1',
    'healthy/2',
    'healthy/0',
    'healthy/1',
    'healthy/2',
    'degraded/3:degraded',
    'degraded/4',
    'degraded/5',
    'degraded/6', // the monitor's verdict again (another restart): no second change
    'degraded/7',
    'healthy/0:recovered',
    'healthy/0',
  ]);
});

test('failures before any pass: unknown with a count, then degraded at the verdict', () => {
  assert.deepEqual(run([false, false, false]), ['unknown/1', 'unknown/2', 'degraded/3:degraded']);
});

test('after a daemon restart: a degraded instance stays degraded through fresh failures, recovers on a pass; the count starts again', () => {
  assert.deepEqual(run([false, false, true], { state: 'degraded', failures: 5 }), ['degraded/6', 'degraded/7', 'healthy/0:recovered']);
  // A healthy one that had 2 failures needs 3 more for the monitor's verdict.
  assert.deepEqual(run([false, false, false], { state: 'healthy', failures: 2 }), ['healthy/3', 'healthy/4', 'degraded/5:degraded']);
});

test('the app: degraded while any instance is, healthy when one passed and none is degraded, else unknown', () => {
  assert.equal(appHealth([]), 'unknown');
  assert.equal(appHealth(['unknown', 'unknown']), 'unknown');
  assert.equal(appHealth(['unknown', 'healthy']), 'healthy');
  assert.equal(appHealth(['healthy', 'degraded', 'healthy']), 'degraded');
  assert.equal(appChange('healthy', 'degraded'), 'app.degraded');
  assert.equal(appChange('unknown', 'degraded'), 'app.degraded');
  assert.equal(appChange('degraded', 'healthy'), 'app.recovered');
  assert.equal(appChange('degraded', 'unknown'), 'app.recovered', 'the degraded instances stopped serving');
  assert.equal(appChange('degraded', 'degraded'), null);
  assert.equal(appChange('unknown', 'healthy'), null);
  assert.equal(appChange('healthy', 'unknown'), null);
});

test('a failure detail: masked, control characters flattened, bounded, a secret across the cut never half shown', () => {
  const secret = 'hunter2-very-secret';
  const mask = createMasker([secret]);
  assert.equal(checkDetail(undefined, mask), null);
  assert.equal(checkDetail('', mask), null);
  assert.equal(checkDetail(`db password ${secret} refused\n\x1b[31mred`, mask), 'db password *** refused [31mred');
  const long = checkDetail(`${'x'.repeat(MAX_DETAIL - 5)}${secret}${'y'.repeat(100_000)}`, mask)!;
  assert.equal(long.length, MAX_DETAIL);
  assert.ok(!long.includes('hunter'), long.slice(-20));
  assert.ok(long.endsWith('…'));
  const emoji = checkDetail('😀'.repeat(MAX_DETAIL), mask)!;
  assert.ok(emoji.length <= MAX_DETAIL);
  assert.doesNotMatch(emoji, /[\uD800-\uDBFF](?![\uDC00-\uDFFF])/, 'no lone high surrogate at the cut');
});
