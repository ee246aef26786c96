import { test } from 'node:test';
import assert from 'node:assert/strict';
import { waitFor } from '../../test/support/http.ts';
import { afterProbe, type MonitorState } from './monitor.ts';
import { HealthMonitor } from './monitor.ts';
import { reportTo } from '../deploy/emit.ts';
import type { FakeBehaviour } from '../runtime/fake/behaviour.ts';
import { startKit, type Kit } from '../deploy/kit.test-support.ts';

test('afterProbe: the third failure in a row is unhealthy, counting restarts, a success after it is a recovery', () => {
  let state: MonitorState = { failures: 0, unhealthy: false, nextAt: 0 };
  const verdicts: string[] = [];
  for (const [i, ok] of [false, false, true, false, false, false, false, false, false, true, true].entries()) {
    const next = afterProbe(state, ok, i * 1000, 1000);
    verdicts.push(next.verdict);
    state = next.state;
  }
  assert.deepEqual(verdicts, ['none', 'none', 'none', 'none', 'none', 'unhealthy', 'none', 'none', 'unhealthy', 'recovered', 'none']);
  const unhealthy = afterProbe({ failures: 2, unhealthy: false, nextAt: 0 }, false, 10_000, 1000);
  assert.equal(unhealthy.state.nextAt, 13_000, 'after a restart the next check waits three intervals');
});

/**
 * A worker app `app` whose health is the heartbeat /tmp/beat (checked every 100 ms), deployed on the fake
 * driver with `behaviour`, watched by a running HealthMonitor; `body` gets the app's event types.
 */
async function withMonitoredWorker(app: string, extra: string, behaviour: FakeBehaviour, body: (types: () => string[], kit: Kit) => Promise<void>) {
  const kit = await startKit();
  const monitor = new HealthMonitor({ ...kit.ctx, report: reportTo(kit.ctx) });
  try {
    const yaml = `name: ${app}\nprocesses:\n  worker:\n    command: node worker.js\n    health:\n      heartbeat: /tmp/beat\n      interval: 100ms\n${extra}`;
    const d = kit.deployer.start({ app, kind: 'deploy', description: 'test', wait: true, source: kit.source(yaml, { heartbeatFile: '/tmp/beat', ...behaviour }) });
    await kit.deployer.idle(app);
    assert.notEqual(kit.ctx.store.deployments.get(d.id)!.state, 'failed');
    monitor.start(50);
    await body(() => kit.ctx.store.events.forApp(app).map((e) => e.type), kit);
  } finally {
    await monitor.stop();
    await kit.close();
  }
}

test('a worker whose heartbeat goes stale while serving is reported unhealthy and restarted; the restart makes it healthy again', { timeout: 30_000 }, () =>
  withMonitoredWorker('jobs', 'restart:\n  backoff: 100ms\n', { hangAfterMs: 1500 }, async (types, kit) => {
    await waitFor('the worker to be found unhealthy', () => types().includes('instance.unhealthy'), 10_000);
    await waitFor('a restart', () => types().includes('instance.restarted'), 10_000);
    await waitFor('it to pass again', () => types().includes('instance.healthy'), 10_000);
    const unhealthy = kit.ctx.store.events.forApp('jobs').find((e) => e.type === 'instance.unhealthy')!;
    assert.match(unhealthy.message, /worker\.\d+ failed 3 health checks in a row \(heartbeat \/tmp\/beat is stale\); restarting it/);
    assert.ok(types().indexOf('instance.unhealthy') < types().indexOf('instance.restarted'));
  }),
);

test('an instance that is not running (back-off, crash loop) is left to supervision: no unhealthy report, no restart', { timeout: 30_000 }, () =>
  withMonitoredWorker('gone', 'restart:\n  max_restarts: 0\n', { crashAfterMs: 1000 }, async (types) => {
    await waitFor('the crash loop', () => types().includes('instance.crashloop'), 10_000);
    // Ten check intervals later: the monitor saw a stopped instance every time and said nothing.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    assert.ok(!types().includes('instance.unhealthy'), types().join(' '));
  }),
);
