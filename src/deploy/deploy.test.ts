import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { request, waitFor } from '../../test/support/http.ts';
import { crashFakeInstance, fakeArtifacts } from '../runtime/fake/state.ts';
import { StaleRouteTableError } from '../dataplane/route-table.ts';
import { recover } from './recovery.ts';
import { resolveRollbackTarget } from './rollback.ts';
import { destroyApp } from './destroy.ts';
import { startKit, type Kit } from './kit.test-support.ts';

/** The deploy runbook above the runtime port: fake driver, real store, real proxy in process. */
const manifest = (extra = '') => `name: app
health:
  path: /health
  interval: 100ms
  healthy_after: 2
  deadline: 2s
deploy:
  drain_timeout: 300ms
  standby: 1m
${extra}`;

let kit: Kit;
before(async () => {
  kit = await startKit();
});
after(async () => {
  await kit.close();
});

const deploy = async (app: string, yaml: string, behaviour = {}) => {
  const d = kit.deployer.start({ app, kind: 'deploy', description: 'test', wait: true, source: kit.source(yaml, behaviour) });
  await kit.deployer.idle(app);
  return kit.ctx.store.deployments.get(d.id)!;
};
const get = async (app: string) => JSON.parse((await request({ port: kit.port, host: `${app}.localhost` })).body) as { version: string; env: Record<string, string> };
const events = (deploymentId: string) => kit.ctx.store.events.forDeployment(deploymentId).map((e) => e.type);

describe('deploy runbook', () => {
  test('a deploy builds, starts, gates, switches; the reconciler drains the old release into standby', async () => {
    const first = await deploy('alpha', manifest(), { version: 'one' });
    assert.equal(first.state, 'draining');
    assert.equal((await get('alpha')).version, 'one');
    const second = await deploy('alpha', manifest(), { version: 'two' });
    assert.equal((await get('alpha')).version, 'two');
    const steps = kit.ctx.store.events.forDeployment(second.id).filter((e) => e.type === 'deploy.state' || e.type === 'deploy.switched').map((e) => (e.type === 'deploy.switched' ? 'switched' : e.data!.state));
    assert.deepEqual(steps, ['building', 'starting', 'verifying', 'switching', 'switched', 'draining']);
    await waitFor('the drain to finish', () => kit.ctx.store.deployments.get(second.id)!.state === 'succeeded', 5000);
    const old = kit.ctx.store.instances.byRelease(first.releaseId!);
    assert.deepEqual(old.map((i) => i.state), ['standby'], 'the replaced release waits warm');
    assert.equal(kit.routing.last()!.apps.alpha.targets.length, 1);
  });

  test('a release that never gets healthy fails, is undone, and the previous one keeps serving', async () => {
    await deploy('beta', manifest(), { version: 'good' });
    const bad = await deploy('beta', manifest(), { version: 'bad', health: 'fail', logs: ['booting bad'] });
    assert.equal(bad.state, 'failed');
    assert.equal(bad.error!.code, 'HEALTH_CHECK_FAILED');
    assert.ok(bad.error!.logTail.some((l) => l.includes('booting bad')), JSON.stringify(bad.error));
    assert.equal(kit.ctx.store.releases.get(bad.releaseId!)!.status, 'failed');
    assert.deepEqual(kit.ctx.store.instances.byRelease(bad.releaseId!).map((i) => i.state), ['failed']);
    assert.equal((await kit.ctx.driver.inspect(kit.ctx.store.instances.byRelease(bad.releaseId!)[0].id)).state, 'missing', 'its process is gone');
    assert.equal((await get('beta')).version, 'good');
  });

  test('a crash during the health gate fails at once with START_FAILED and the exit code', async () => {
    const started = Date.now();
    const crash = await deploy('gamma', manifest(), { crashAfterMs: 50, exitCode: 7, health: 'fail' });
    assert.equal(crash.state, 'failed');
    assert.equal(crash.error!.code, 'START_FAILED');
    assert.match(crash.error!.message, /exited with code 7/);
    assert.ok(Date.now() - started < 1500, 'it did not wait for the health deadline');
  });

  test('a failed build leaves no release and no artifact', async () => {
    const artifactsBefore = fakeArtifacts(kit.fake);
    const failed = await deploy('delta', manifest(), { build: 'fail', buildLog: ['compiling', 'error TS2304'] });
    assert.equal(failed.state, 'failed');
    assert.equal(failed.error!.code, 'BUILD_FAILED');
    assert.deepEqual(failed.error!.logTail.slice(-2), ['compiling', 'error TS2304']);
    assert.deepEqual(kit.ctx.store.releases.listByApp('delta'), []);
    assert.deepEqual(fakeArtifacts(kit.fake), artifactsBefore);
  });

  test('rollback to the warm release reuses its instance; a colder one starts again', async () => {
    await deploy('eps', manifest(), { version: 'v-a' });
    await deploy('eps', manifest(), { version: 'v-b' });
    await deploy('eps', manifest(), { version: 'v-c' });
    const warmTarget = resolveRollbackTarget(kit.ctx, 'eps', undefined);
    assert.equal(warmTarget.version, 2);
    await waitFor('v2 to wait in standby', () => kit.ctx.store.instances.byRelease(warmTarget.id).some((i) => i.state === 'standby'), 5000);
    await waitFor('v1 to stop (one standby release only)', () => kit.ctx.store.instances.live('eps').filter((i) => i.state !== 'serving').length === 1, 5000);
    const warmBefore = kit.ctx.store.instances.byRelease(warmTarget.id).find((i) => i.state === 'standby')!;
    const warm = kit.deployer.start({ app: 'eps', kind: 'rollback', description: 'rollback', wait: false, target: warmTarget });
    await kit.deployer.idle('eps');
    assert.ok(!events(warm.id).includes('instance.started'), 'nothing was started');
    assert.equal(kit.ctx.store.instances.get(warmBefore.id)!.state, 'serving');
    assert.equal((await get('eps')).version, 'v-b');

    const cold = kit.deployer.start({ app: 'eps', kind: 'rollback', description: 'rollback', wait: false, target: resolveRollbackTarget(kit.ctx, 'eps', 'v1') });
    await kit.deployer.idle('eps');
    assert.ok(events(cold.id).includes('instance.started'));
    assert.equal((await get('eps')).version, 'v-a');
    assert.throws(() => resolveRollbackTarget(kit.ctx, 'eps', 'v1'), /serving now/);
    assert.throws(() => resolveRollbackTarget(kit.ctx, 'eps', 'v9'), (e: Error & { code?: string }) => e.code === 'RELEASE_NOT_FOUND');
  });

  test('a rollback reusing a warm instance keeps it even when its standby runs out meanwhile', async () => {
    await deploy('omicron', manifest(), { version: 'e-a' });
    await deploy('omicron', manifest(), { version: 'e-b' });
    const target = resolveRollbackTarget(kit.ctx, 'omicron', undefined);
    await waitFor('e-a to wait in standby', () => kit.ctx.store.instances.byRelease(target.id).some((i) => i.state === 'standby'), 5000);
    const warm = kit.ctx.store.instances.byRelease(target.id).find((i) => i.state === 'standby')!;
    const rollback = kit.deployer.start({ app: 'omicron', kind: 'rollback', description: 'rollback', wait: false, target });
    // The standby time runs out while the rollback is gating the instance: the reconciler must leave it alone.
    kit.ctx.store.instances.move(warm.id, 'standby', Date.now(), { stateUntil: Date.now() - 1 });
    await kit.reconciler.tick();
    assert.equal(kit.ctx.store.instances.get(warm.id)!.state, 'standby', 'claimed by the rollback, not stopped');
    await kit.deployer.idle('omicron');
    assert.equal(kit.ctx.store.deployments.get(rollback.id)!.error, null);
    assert.equal(kit.ctx.store.instances.get(warm.id)!.state, 'serving');
    assert.equal((await get('omicron')).version, 'e-a');
  });

  test('workers start with the web process, never wait in standby, and come back on a warm rollback', async () => {
    const yaml = manifest('processes:\n  web:\n    replicas: 2\n  worker: node worker.js\n');
    const one = await deploy('zeta', yaml, { version: 'w1' });
    assert.deepEqual(kit.ctx.store.instances.byRelease(one.releaseId!).map((i) => `${i.process}.${i.ordinal}`).sort(), ['web.0', 'web.1', 'worker.0']);
    const two = await deploy('zeta', yaml, { version: 'w2' });
    await waitFor('the old release to retire', () => kit.ctx.store.deployments.get(two.id)!.state === 'succeeded', 5000);
    await waitFor('the old worker to stop', () => kit.ctx.store.instances.byRelease(one.releaseId!).find((i) => i.process === 'worker')!.state === 'stopped', 5000);
    assert.deepEqual(kit.ctx.store.instances.byRelease(one.releaseId!).filter((i) => i.process === 'web').map((i) => i.state), ['standby', 'standby']);
    const back = kit.deployer.start({ app: 'zeta', kind: 'rollback', description: 'rollback', wait: false, target: resolveRollbackTarget(kit.ctx, 'zeta', undefined) });
    await kit.deployer.idle('zeta');
    assert.equal(kit.ctx.store.deployments.get(back.id)!.state, 'draining');
    const live = kit.ctx.store.instances.live('zeta').filter((i) => i.releaseId === one.releaseId && i.state === 'serving');
    assert.deepEqual(live.map((i) => `${i.process}.${i.ordinal}`).sort(), ['web.0', 'web.1', 'worker.0']);
    assert.equal(kit.routing.last()!.apps.zeta.targets.filter((t) => t.state === 'active').length, 2, 'both web replicas take traffic');
  });

  test('a crashed instance is restarted and routed where it listens', async () => {
    await deploy('eta', manifest('restart:\n  backoff: 100ms\n'), { version: 'r' });
    const instance = kit.ctx.store.instances.live('eta')[0];
    await crashFakeInstance(kit.fake, instance.id);
    await waitFor('the restart', () => kit.ctx.store.events.forApp('eta').some((e) => e.type === 'instance.restarted'), 5000);
    await waitFor('traffic again', async () => (await get('eta').catch(() => undefined))?.version === 'r', 5000);
    assert.ok(kit.ctx.store.events.forApp('eta').some((e) => e.type === 'instance.exited'));
    const routed = kit.routing.last()!.apps.eta.targets[0].address;
    assert.equal(routed, kit.ctx.store.instances.get(instance.id)!.address, 'the proxy routes to where the instance listens now');
  });

  test('an instance berth gave up restarting leaves the route table: the proxy answers 503, not a 502 per request', async () => {
    await deploy('nu', manifest('restart:\n  max_restarts: 0\n'), { version: 'once' });
    const instance = kit.ctx.store.instances.live('nu')[0];
    await crashFakeInstance(kit.fake, instance.id);
    await waitFor('the crash loop', () => kit.ctx.store.events.forApp('nu').some((e) => e.type === 'instance.crashloop'), 5000);
    await waitFor('the route to go', () => kit.routing.last()!.apps.nu.targets.length === 0, 5000);
    const reply = await request({ port: kit.port, host: 'nu.localhost' });
    assert.equal(reply.status, 503);
    assert.equal(reply.headers['x-berth-error'], 'no-healthy-instance');
    assert.equal(kit.ctx.store.instances.get(instance.id)!.state, 'serving', 'still the release\'s instance, for status and a later restart');

    // A deploy replaces it; routing is back.
    await deploy('nu', manifest(), { version: 'fixed' });
    assert.equal((await get('nu')).version, 'fixed');
  });

  test('a rollback to a release whose domain another app took since fails with DOMAIN_TAKEN; the serving release stays', async () => {
    await deploy('lambda', manifest('domains: [shared.test]\n'), { version: 'l1' });
    await deploy('lambda', manifest(), { version: 'l2' });
    assert.equal((await deploy('mu', manifest('domains: [shared.test]\n'), { version: 'm1' })).state, 'draining');
    const back = kit.deployer.start({ app: 'lambda', kind: 'rollback', description: 'rollback', wait: false, target: resolveRollbackTarget(kit.ctx, 'lambda', 'v1') });
    await kit.deployer.idle('lambda');
    const failed = kit.ctx.store.deployments.get(back.id)!;
    assert.equal(failed.state, 'failed');
    assert.equal(failed.error!.code, 'DOMAIN_TAKEN');
    assert.match(failed.error!.message, /shared\.test.*mu/);
    assert.equal((await get('lambda')).version, 'l2');
    const table = kit.routing.last()!;
    assert.deepEqual([table.apps.lambda.hosts, table.apps.mu.hosts], [['lambda.localhost'], ['mu.localhost', 'shared.test']]);
  });

  test('old releases beyond keep_releases are pruned, builds freed', async () => {
    const yaml = manifest('deploy:\n  keep_releases: 2\n  standby: 0s\n').replace('deploy:\n  drain_timeout: 300ms\n  standby: 1m\n', '');
    for (const version of ['p1', 'p2', 'p3', 'p4']) await deploy('theta', yaml, { version });
    const statuses = kit.ctx.store.releases.listByApp('theta').map((r) => `v${r.version}:${r.status}`);
    assert.deepEqual(statuses, ['v4:ready', 'v3:ready', 'v2:pruned', 'v1:pruned']);
    assert.throws(() => resolveRollbackTarget(kit.ctx, 'theta', 'v1'), /pruned/);
  });

  test('destroy stops everything and removes the routes', async () => {
    await deploy('iota', manifest(), { version: 'x' });
    const ids = kit.ctx.store.instances.live('iota').map((i) => i.id);
    await destroyApp(kit.ctx, kit.deployer, kit.routing, 'iota');
    assert.equal(kit.ctx.store.apps.get('iota'), undefined);
    assert.equal(kit.routing.last()!.apps.iota, undefined);
    for (const id of ids) assert.equal((await kit.ctx.driver.inspect(id)).state, 'missing');
    assert.equal((await request({ port: kit.port, host: 'iota.localhost' })).status, 404);
  });

  test('a proxy holding a newer table (an earlier daemon, a clock stepped back) takes the next one, numbered after its own', async () => {
    const ahead = Date.now() + 3_600_000;
    await kit.ctx.dataplane.apply({ generation: ahead, apps: {} });
    await kit.routing.publish();
    const published = kit.routing.last()!;
    assert.ok(published.generation > ahead, `published generation ${published.generation} follows the proxy's ${ahead}`);
    assert.equal((await kit.ctx.dataplane.stats()).generation, published.generation);
    await assert.rejects(kit.ctx.dataplane.apply({ generation: ahead, apps: {} }), StaleRouteTableError, 'an older table is refused, not dropped silently');
  });
});

describe('recovery', () => {
  test('after a crash: in-flight deployments interrupted, their instances stopped, orphans stopped, routes republished', async () => {
    await deploy('kappa', manifest(), { version: 'ok' });
    // A deployment caught in its health gate, as a SIGKILL would leave it.
    const stuck = kit.deployer.start({ app: 'kappa', kind: 'deploy', description: 'stuck', wait: false, source: kit.source(manifest().replace('deadline: 2s', 'deadline: 60s'), { health: 'fail' }) });
    await waitFor('the gate', () => kit.ctx.store.deployments.get(stuck.id)!.state === 'verifying', 5000);
    const stuckInstance = kit.ctx.store.instances.byDeployment(stuck.id)[0];
    // An instance the runtime runs but the store never heard of.
    const orphan = await kit.ctx.driver.start({ ...(await specOf(kit, stuckInstance.id)), id: 'ins_orphan' });
    assert.equal(orphan.state, 'running');
    // Simulate the crash: the deployment stops being run, its rows stay as they were.
    await kit.deployer.cancelApp('kappa', 'simulated crash');
    kit.ctx.store.db.run("UPDATE deployments SET state = 'verifying', finished_at = NULL, error = NULL WHERE id = ?", stuck.id);
    kit.ctx.store.db.run("UPDATE instances SET state = 'starting' WHERE id = ?", stuckInstance.id);
    const result = await recover(kit.ctx, kit.routing);
    assert.ok(result.interrupted >= 1);
    assert.ok(result.orphans >= 1);
    const after = kit.ctx.store.deployments.get(stuck.id)!;
    assert.equal(after.state, 'interrupted');
    assert.equal(after.error!.code, 'DEPLOY_INTERRUPTED');
    assert.equal((await kit.ctx.driver.inspect('ins_orphan')).state, 'missing');
    assert.equal((await get('kappa')).version, 'ok');
  });

  test('after a crash mid-destroy, or between a build and its row: what the store no longer knows is removed', async () => {
    await deploy('xi', manifest(), { version: 'x' });
    const xiArtifacts = kit.ctx.store.builds.listByApp('xi').map((b) => b.artifact);
    // A build that finished just before the crash, its row never written.
    const source = kit.source(manifest(), { version: 'lost' });
    const lost = await kit.ctx.driver.build({ app: 'kappa', buildId: 'bld_lost', sourceDir: source.dir, signal: new AbortController().signal, log: () => {} });
    // A destroy cut short right after its rows went (builds go with the app's row).
    kit.ctx.store.apps.delete('xi');
    const before = await kit.ctx.driver.holdings();
    assert.ok(before.apps.includes('xi') && before.artifacts.includes(lost.artifact));

    await recover(kit.ctx, kit.routing);
    const after = await kit.ctx.driver.holdings();
    assert.ok(!after.apps.includes('xi'), JSON.stringify(after.apps));
    for (const artifact of [...xiArtifacts, lost.artifact]) assert.ok(!after.artifacts.includes(artifact), artifact);
    assert.deepEqual(new Set(after.artifacts), new Set(kit.ctx.store.builds.liveArtifacts()), 'every artifact left is one a build row names');
    assert.equal((await get('kappa')).version, 'ok', 'the apps the store knows keep serving');
  });
});

async function specOf(kit: Kit, id: string) {
  const instance = kit.fake.instances.get(id);
  assert.ok(instance, `fake instance ${id}`);
  return instance.spec;
}
