import { test } from 'node:test';
import assert from 'node:assert/strict';
import { waitFor } from '../../test/support/http.ts';
import { reportTo } from '../deploy/emit.ts';
import { startKit, type Kit } from '../deploy/kit.test-support.ts';
import type { FakeBehaviour } from '../runtime/fake/behaviour.ts';
import { HealthMonitor } from './monitor.ts';

/**
 * The monitor's history and the degraded state, on the fake driver with a real store: every check recorded,
 * an instance degraded at its third failure in a row and healthy at its next pass, the app's
 * `app.degraded` / `app.recovered` once per change, and all of it still so for a monitor started afresh
 * (a daemon restart) on the same store.
 */

/** The heartbeat path is an env value, so it is one of the app's secrets: check details must mask it. */
const BEAT = '/tmp/beat-4f1e9a';

async function deployWorker(kit: Kit, app: string, behaviour: FakeBehaviour): Promise<string> {
  kit.ctx.store.apps.ensure(app, Date.now());
  kit.ctx.store.env.set(app, 'BEAT_FILE', kit.ctx.sealer.seal(BEAT), Date.now());
  const yaml = `name: ${app}\nprocesses:\n  worker:\n    command: node worker.js\n    health:\n      heartbeat: ${BEAT}\n      interval: 100ms\nrestart:\n  backoff: 100ms\n`;
  const d = kit.deployer.start({ app, kind: 'deploy', description: 'test', wait: true, source: kit.source(yaml, { heartbeatFile: BEAT, ...behaviour }) });
  await kit.deployer.idle(app);
  assert.notEqual(kit.ctx.store.deployments.get(d.id)!.state, 'failed');
  const [instance] = kit.ctx.store.instances.live(app).filter((i) => i.state === 'serving');
  return instance.id;
}

const types = (kit: Kit, app: string) => kit.ctx.store.events.forApp(app, 1000).map((e) => e.type);
const count = (kit: Kit, app: string, type: string) => types(kit, app).filter((t) => t === type).length;

test('every check is recorded; degraded at the third failure in a row (then restarted), healthy and recovered at the next pass', { timeout: 30_000 }, async () => {
  const kit = await startKit();
  const monitor = new HealthMonitor({ ...kit.ctx, report: reportTo(kit.ctx) });
  try {
    const id = await deployWorker(kit, 'jobs', { hangAfterMs: 1200 });
    assert.equal(kit.ctx.store.health.state(id), undefined, 'unknown before the first check');
    monitor.start(20);
    await waitFor('a first passing check', () => kit.ctx.store.health.state(id)?.state === 'healthy', 5_000);
    await waitFor('the app to be degraded', () => types(kit, 'jobs').includes('app.degraded'), 10_000);
    await waitFor('the app to recover', () => types(kit, 'jobs').includes('app.recovered'), 10_000);
    const log = types(kit, 'jobs').filter((t) => t.startsWith('instance.unhealthy') || t.startsWith('instance.healthy') || t.startsWith('app.') || t === 'instance.restarted');
    const order = ['instance.unhealthy', 'app.degraded', 'instance.restarted', 'instance.healthy', 'app.recovered'].map((t) => log.indexOf(t));
    assert.deepEqual(order, order.toSorted((a, b) => a - b), log.join(' '));
    assert.ok(order.every((i) => i >= 0), log.join(' '));
    assert.equal(count(kit, 'jobs', 'app.degraded'), 1);
    assert.equal(count(kit, 'jobs', 'app.recovered'), 1);
    const degraded = kit.ctx.store.events.forApp('jobs', 1000).find((e) => e.type === 'app.degraded')!;
    assert.deepEqual(degraded.data, { release: 'v1', instances: [id] });
    assert.match(degraded.message, /^jobs is degraded: worker\.0 failed 3 health checks in a row$/);

    // The history, newest first: passes since the recovery, the three failures that degraded it (masked), passes before.
    const history = kit.ctx.store.health.recent(id, 100);
    const newestFailure = history.findIndex((c) => !c.ok);
    const end = history.findIndex((c, i) => i > newestFailure && c.ok);
    assert.ok(newestFailure > 0 && end > newestFailure, JSON.stringify(history));
    const failures = history.slice(newestFailure, end);
    assert.equal(failures.length, 3, 'three failures, then the restart: the next check passed');
    assert.ok(degraded.at >= failures[0].at, 'degraded at the third failure');
    for (const failure of failures) {
      assert.equal(failure.status, null, 'a heartbeat check has no HTTP status');
      assert.equal(failure.detail, 'heartbeat *** is stale');
    }
    assert.ok(history.some((c) => c.ok && c.detail === null));
    assert.ok(!JSON.stringify(history).includes(BEAT), 'the secret never reaches the history');
    assert.ok(history.every((c, i) => i === 0 || c.at <= history[i - 1].at), 'newest first');
  } finally {
    await monitor.stop();
    await kit.close();
  }
});

test('one app.degraded however many failures follow; a monitor started afresh on the same store keeps the state and announces only the recovery', { timeout: 30_000 }, async () => {
  const kit = await startKit();
  // No restart (an update on trial would be reverted instead): the instance keeps failing.
  const reverted: string[] = [];
  const context = { ...kit.ctx, report: reportTo(kit.ctx), revertInstead: (instance: { id: string }) => (reverted.push(instance.id), true) };
  let monitor = new HealthMonitor(context);
  try {
    const id = await deployWorker(kit, 'stuck', { hangAfterMs: 600 });
    monitor.start(20);
    await waitFor('two unhealthy verdicts', () => count(kit, 'stuck', 'instance.unhealthy') >= 2, 10_000);
    assert.equal(count(kit, 'stuck', 'app.degraded'), 1);
    const before = kit.ctx.store.health.state(id)!;
    assert.equal(before.state, 'degraded');
    assert.ok(before.failures >= 6, `failures in a row: ${before.failures}`);
    assert.ok(reverted.length >= 2);

    // A daemon restart: the new monitor counts from zero, the stored state stays degraded.
    await monitor.stop();
    monitor = new HealthMonitor(context);
    monitor.start(20);
    await waitFor('a check by the new monitor', () => kit.ctx.store.health.state(id)!.failures > before.failures, 5_000);
    assert.equal(kit.ctx.store.health.state(id)!.state, 'degraded');
    assert.equal(count(kit, 'stuck', 'app.degraded'), 1, 'not announced again');

    // A restart from elsewhere makes the heartbeat fresh again: the next pass recovers instance and app, once.
    await kit.ctx.driver.restart(id);
    await waitFor('the recovery', () => types(kit, 'stuck').includes('app.recovered'), 10_000);
    assert.equal(count(kit, 'stuck', 'instance.healthy'), 1);
    assert.equal(count(kit, 'stuck', 'app.recovered'), 1);
    assert.equal(count(kit, 'stuck', 'app.degraded'), 1);
    assert.deepEqual(kit.ctx.store.health.state(id)!.failures, 0);
    const recovered = kit.ctx.store.events.forApp('stuck', 1000).find((e) => e.type === 'app.recovered')!;
    assert.deepEqual(recovered.data, { release: 'v1' });
  } finally {
    await monitor.stop();
    await kit.close();
  }
});

test('the app recovers when its degraded instance stops serving (a new release replaces it), without a check of it', { timeout: 30_000 }, async () => {
  const kit = await startKit();
  const context = { ...kit.ctx, report: reportTo(kit.ctx), revertInstead: () => true };
  const monitor = new HealthMonitor(context);
  try {
    await deployWorker(kit, 'swap', { hangAfterMs: 300 });
    monitor.start(20);
    await waitFor('the app to be degraded', () => types(kit, 'swap').includes('app.degraded'), 10_000);
    await deployWorker(kit, 'swap', {});
    await waitFor('the recovery', () => types(kit, 'swap').includes('app.recovered'), 10_000);
    assert.equal(count(kit, 'swap', 'app.recovered'), 1);
    const recovered = kit.ctx.store.events.forApp('swap', 1000).find((e) => e.type === 'app.recovered')!;
    assert.deepEqual(recovered.data, { release: 'v2' });
  } finally {
    await monitor.stop();
    await kit.close();
  }
});
