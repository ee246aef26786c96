import { test } from 'node:test';
import assert from 'node:assert/strict';
import { waitFor } from '../../test/support/http.ts';
import { afterProbe, type MonitorState } from './health-monitor.ts';
import { HealthMonitor } from './health-monitor.ts';
import { startKit } from './test-kit.ts';

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

test('a worker whose heartbeat goes stale while serving is reported unhealthy and restarted; the restart makes it healthy again', { timeout: 30_000 }, async () => {
  const kit = await startKit();
  const monitor = new HealthMonitor(kit.ctx);
  try {
    const yaml = `name: jobs
processes:
  worker:
    command: node worker.js
    health:
      heartbeat: /tmp/beat
      max_age: 1s
      interval: 100ms
restart:
  backoff: 100ms
`;
    const d = kit.deployer.start({ app: 'jobs', kind: 'deploy', description: 'test', wait: true, source: kit.source(yaml, { heartbeatFile: '/tmp/beat', hangAfterMs: 1500 }) });
    await kit.deployer.idle('jobs');
    assert.equal(kit.ctx.store.deployments.get(d.id)!.state !== 'failed', true);
    monitor.start(50);
    const types = () => kit.ctx.store.events.forApp('jobs').map((e) => e.type);
    await waitFor('the worker to be found unhealthy', () => types().includes('instance.unhealthy'), 10_000);
    await waitFor('a restart', () => types().includes('instance.restarted'), 10_000);
    await waitFor('it to pass again', () => types().includes('instance.healthy'), 10_000);
    const unhealthy = kit.ctx.store.events.forApp('jobs').find((e) => e.type === 'instance.unhealthy')!;
    assert.match(unhealthy.message, /worker\.\d+ failed 3 health checks in a row \(heartbeat \/tmp\/beat is stale\); restarting it/);
    assert.ok(types().indexOf('instance.unhealthy') < types().indexOf('instance.restarted'));
  } finally {
    await monitor.stop();
    await kit.close();
  }
});

test('an instance that is not running (back-off, crash loop) is left to supervision: no unhealthy report, no restart', { timeout: 30_000 }, async () => {
  const kit = await startKit();
  const monitor = new HealthMonitor(kit.ctx);
  try {
    const yaml = `name: gone
processes:
  worker:
    command: node worker.js
    health:
      heartbeat: /tmp/beat
      interval: 100ms
restart:
  max_restarts: 0
`;
    kit.deployer.start({ app: 'gone', kind: 'deploy', description: 'test', wait: true, source: kit.source(yaml, { heartbeatFile: '/tmp/beat', crashAfterMs: 1000 }) });
    await kit.deployer.idle('gone');
    monitor.start(50);
    const types = () => kit.ctx.store.events.forApp('gone').map((e) => e.type);
    await waitFor('the crash loop', () => types().includes('instance.crashloop'), 10_000);
    // Ten check intervals later: the monitor saw a stopped instance every time and said nothing.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    assert.ok(!types().includes('instance.unhealthy'), types().join(' '));
  } finally {
    await monitor.stop();
    await kit.close();
  }
});
