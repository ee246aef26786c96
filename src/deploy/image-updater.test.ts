import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { request, waitFor } from '../../test/support/http.ts';
import { systemClock, type Clock } from '../lib/clock.ts';
import { HealthMonitor } from '../health/monitor.ts';
import { parseManifest } from '../manifest/load.ts';
import type { FakeRegistry } from '../registry/fake.test-support.ts';
import type { FakeBehaviour } from '../runtime/fake/behaviour.ts';
import { FakeRemoteImages, type FakeServices } from '../runtime/fake/images.ts';
import { reportTo } from './emit.ts';
import { ImageUpdater } from './image-updater.ts';
import { startKit, type Kit } from './kit.test-support.ts';
import { rollback } from './rollback.ts';

/**
 * The auto-update controller over the kit: real store and proxy, the fake driver running images from
 * FakeRemoteImages, the FakeRegistry answering digest checks. Its clock is the system's plus what a test
 * jumps over, so intervals and settle windows pass at once while deploys run in real time.
 */
class JumpClock implements Clock {
  skipped = 0;
  now = () => Date.now() + this.skipped;
  sleep = systemClock.sleep;
  jump(ms: number): void {
    this.skipped += ms;
  }
}

const REPO = 'reg.test/acme/web';
let kit: Kit;
let registry: FakeRegistry;
const remote = new FakeRemoteImages();

before(async () => {
  kit = await startKit({ images: remote });
  registry = kit.ctx.registry as FakeRegistry;
});
after(async () => {
  await kit.close();
});

/** Pushes a new digest under `tag` whose instances behave as given; the digest. */
function push(tag: string, behaviour: FakeBehaviour): string {
  const digest = registry.push(`${REPO}:${tag}`);
  remote.publish(`${REPO}@${digest}`, behaviour);
  return digest;
}

const imageApp = (app: string, tag: string, extra = '') => `name: ${app}
image: ${REPO}:${tag}
update:
  interval: 5s
  settle: 1m
health:
  path: /health
  interval: 100ms
  healthy_after: 2
  deadline: 3s
deploy:
  drain_timeout: 200ms
  standby: 5m
${extra}`;

async function deployImage(app: string, yaml: string): Promise<void> {
  const manifest = parseManifest(yaml);
  const d = kit.deployer.start({ app, kind: 'deploy', description: 'test', wait: true, source: { manifest } });
  await kit.deployer.idle(app);
  assert.equal(kit.ctx.store.deployments.get(d.id)!.state === 'failed', false, JSON.stringify(kit.ctx.store.deployments.get(d.id)!.error));
}

const page = async (app: string) => (JSON.parse((await request({ port: kit.port, host: `${app}.localhost` })).body) as { version: string }).version;
const appEvents = (app: string, type: string) => kit.ctx.store.events.forApp(app, 1000).filter((e) => e.type === type);
const deployments = (app: string) => kit.ctx.store.deployments.listByApp(app);
const state = (app: string, service: string | null = null) => kit.ctx.store.imageUpdates.get(app, service)!;

function updater(clock = new JumpClock()) {
  return { clock, updater: new ImageUpdater({ ctx: kit.ctx, deployer: kit.deployer, clock }) };
}

/** One pass, then waits for whatever deployment it started. */
async function pass(u: ImageUpdater, app: string): Promise<void> {
  await u.tick();
  await kit.deployer.idle(app);
}

describe('auto-update of an image app', () => {
  test('a new digest is deployed as an `update` through the gate and the release command, pulling exactly that digest; it settles', async () => {
    const v1 = push('live', { version: 'one', oneOff: { migrate: { output: ['migrated one'] } } });
    await deployImage('alpha', imageApp('alpha', 'live', 'release: migrate\n'));
    assert.equal(await page('alpha'), 'one');
    const { clock, updater: u } = updater();

    await pass(u, 'alpha');
    assert.equal(state('alpha').servingDigest, v1, 'the first check finds the digest serving');
    assert.equal(state('alpha').lastError, null);
    assert.equal(deployments('alpha').length, 1, 'nothing new: no deploy');
    assert.equal(appEvents('alpha', 'image.update.found').length, 0, 'an ordinary check is not an event');

    const v2 = push('live', { version: 'two', oneOff: { migrate: { output: ['migrated two'] } } });
    const calls = registry.calls.length;
    await pass(u, 'alpha');
    assert.equal(registry.calls.length, calls, 'not due before its interval: the registry is not asked');
    clock.jump(5_000);
    await pass(u, 'alpha');
    assert.equal(registry.calls.length, calls + 1, 'one check, and the deploy did not ask for the tag again');
    const update = deployments('alpha')[0];
    assert.equal(update.kind, 'update');
    assert.notEqual(update.state, 'failed', JSON.stringify(update.error));
    assert.equal(await page('alpha'), 'two');
    assert.ok(remote.pulls.includes(`${REPO}@${v2}`), 'the digest found is what was pulled');
    const types = kit.ctx.store.events.forDeployment(update.id).map((e) => e.type);
    assert.ok(types.includes('image.update.found'), types.join(' '));
    assert.ok(kit.ctx.store.events.forDeployment(update.id).some((e) => e.message === 'migrated two'), 'the release command ran');
    const found = appEvents('alpha', 'image.update.found')[0];
    assert.deepEqual(found.data, { image: `${REPO}:live`, service: null, digest: v2, serving: v1, deployment: update.id });

    await pass(u, 'alpha');
    const trial = state('alpha').trial!;
    assert.equal(trial.digest, v2);
    assert.ok(trial.until! > clock.now() + 50_000, 'on trial for `settle` after the switch');
    clock.jump(61_000);
    await pass(u, 'alpha');
    assert.equal(state('alpha').trial, null, 'settled');
    assert.equal(state('alpha').servingDigest, v2);
    assert.equal(deployments('alpha').length, 2, 'no revert');
  });

  test('a digest that fails its gate is pinned while the old release serves; skipped until a newer digest, which is taken', async () => {
    push('live', { version: 'one' });
    await deployImage('beta', imageApp('beta', 'live'));
    const { clock, updater: u } = updater();
    await pass(u, 'beta');

    const bad = push('live', { version: 'bad', health: 'fail' });
    clock.jump(5_000);
    await pass(u, 'beta');
    assert.equal(deployments('beta')[0].state, 'failed');
    assert.equal(deployments('beta')[0].error!.code, 'HEALTH_CHECK_FAILED');
    assert.equal(await page('beta'), 'one', 'the old release never stopped serving');
    await pass(u, 'beta');
    assert.equal(state('beta').pinnedDigest, bad);
    assert.equal(state('beta').trial, null);
    const pinned = appEvents('beta', 'image.update.pinned');
    assert.equal(pinned.length, 1);
    assert.equal(pinned[0].data!.digest, bad);

    clock.jump(5_000);
    await pass(u, 'beta');
    assert.equal(deployments('beta').length, 2, 'the pinned digest is not tried again');
    assert.ok(state('beta').lastCheckAt! >= clock.now() - 1000, 'but the check happened');

    const good = push('live', { version: 'three' });
    clock.jump(5_000);
    await pass(u, 'beta');
    assert.equal(deployments('beta').length, 3);
    assert.equal(await page('beta'), 'three');
    assert.equal(state('beta').pinnedDigest, null, 'a newer digest replaces the pin');
    assert.equal(state('beta').trial!.digest, good);
  });

  test('a crash loop within the settle window rolls back to the release the update replaced and pins the digest', async () => {
    push('live', { version: 'one' });
    await deployImage('gamma', imageApp('gamma', 'live', 'restart:\n  max_restarts: 0\n'));
    const { clock, updater: u } = updater();
    await pass(u, 'gamma');
    const bad = push('live', { version: 'crashy', crashAfterMs: 800 });
    clock.jump(5_000);
    await pass(u, 'gamma');
    assert.equal(await page('gamma'), 'crashy', 'it passed its gate and took traffic');
    await pass(u, 'gamma');
    await waitFor('the crash loop', () => appEvents('gamma', 'instance.crashloop').length > 0, 10_000);
    await pass(u, 'gamma');
    const [revert] = deployments('gamma');
    assert.equal(revert.kind, 'rollback');
    assert.match(revert.id, /^dep_/);
    assert.equal(await page('gamma'), 'one');
    assert.equal(kit.ctx.store.releases.get(revert.releaseId!)!.version, 1, 'back to v1');
    const reverted = appEvents('gamma', 'image.update.reverted');
    assert.equal(reverted.length, 1);
    assert.equal(reverted[0].deploymentId, revert.id);
    assert.match(reverted[0].message, /web\.0 keeps crashing; going back to v1/);
    assert.equal(state('gamma').pinnedDigest, bad);
    assert.equal(appEvents('gamma', 'image.update.pinned').length, 1);

    clock.jump(5_000);
    await pass(u, 'gamma');
    assert.equal(deployments('gamma').length, 3, 'the reverted digest is skipped');
  });

  test('failing health checks within the window: the monitor leaves the instance to the revert instead of restarting it', { timeout: 30_000 }, async () => {
    const worker = 'processes:\n  worker:\n    command: node worker.js\n    health:\n      heartbeat: /tmp/beat\n      interval: 100ms\n';
    push('live', { version: 'one', heartbeatFile: '/tmp/beat' });
    await deployImage('delta', imageApp('delta', 'live', worker));
    const { clock, updater: u } = updater();
    const monitor = new HealthMonitor({ ...kit.ctx, report: reportTo(kit.ctx), revertInstead: (instance, detail) => u.revertInstead(instance, detail) });
    try {
      await pass(u, 'delta');
      const bad = push('live', { version: 'stale', heartbeatFile: '/tmp/beat', hangAfterMs: 1000 });
      clock.jump(5_000);
      await pass(u, 'delta');
      await pass(u, 'delta');
      const onTrial = kit.ctx.store.apps.get('delta')!.currentRelease!;
      monitor.start(50);
      await waitFor('the revert', () => appEvents('delta', 'image.update.reverted').length > 0, 15_000);
      await kit.deployer.idle('delta');
      assert.equal(appEvents('delta', 'instance.unhealthy').length, 1);
      const worker = kit.ctx.store.instances.byRelease(onTrial).find((i) => i.process === 'worker')!;
      assert.ok(!appEvents('delta', 'instance.restarted').some((e) => e.data!.instance === worker.id), 'the unhealthy instance was not restarted first');
      assert.equal(deployments('delta')[0].kind, 'rollback');
      assert.equal(kit.ctx.store.releases.get(kit.ctx.store.apps.get('delta')!.currentRelease!)!.version, 1, 'v1 serves again');
      assert.equal(state('delta').pinnedDigest, bad);
      assert.match(appEvents('delta', 'image.update.reverted')[0].message, /worker\.0 failed its health checks \(heartbeat \/tmp\/beat is stale\)/);
    } finally {
      await monitor.stop();
    }
  });

  test('a daemon restart in the middle of a settle window resumes it from the store', async () => {
    push('live', { version: 'one' });
    await deployImage('epsilon', imageApp('epsilon', 'live', 'restart:\n  max_restarts: 0\n'));
    const first = updater();
    await pass(first.updater, 'epsilon');
    const bad = push('live', { version: 'late-crash', crashAfterMs: 1500 });
    first.clock.jump(5_000);
    await pass(first.updater, 'epsilon');
    await pass(first.updater, 'epsilon');
    assert.notEqual(state('epsilon').trial!.until, null, 'on trial when the daemon stops');
    await first.updater.stop();

    await waitFor('the crash loop', () => appEvents('epsilon', 'instance.crashloop').length > 0, 10_000);
    // A new daemon: a new updater over the same store, whose clock went on meanwhile.
    const second = updater();
    second.clock.jump(5_000);
    await pass(second.updater, 'epsilon');
    assert.equal(deployments('epsilon')[0].kind, 'rollback');
    assert.equal(await page('epsilon'), 'one');
    assert.equal(state('epsilon').pinnedDigest, bad);
  });

  test('a deploy already running: the update waits for the next interval', async () => {
    push('live', { version: 'one', oneOff: { migrate: { delayMs: 1500 } } });
    await deployImage('zeta', imageApp('zeta', 'live', 'release: migrate\n'));
    const { clock, updater: u } = updater();
    await pass(u, 'zeta');
    push('live', { version: 'two', oneOff: { migrate: { delayMs: 0 } } });
    // A manual deploy of the same tag holds the app (its release command takes 1.5 s).
    const manual = kit.deployer.start({ app: 'zeta', kind: 'deploy', description: 'manual', wait: false, source: { manifest: parseManifest(imageApp('zeta', 'live', 'release: migrate\n')) } });
    clock.jump(5_000);
    await u.tick();
    assert.equal(deployments('zeta')[0].id, manual.id, 'no update deployment was made meanwhile');
    assert.equal(state('zeta').trial, null);
    await kit.deployer.idle('zeta');
    clock.jump(5_000);
    await pass(u, 'zeta');
    assert.equal(deployments('zeta')[0].id, manual.id, 'the manual deploy already runs the new digest: nothing to update');
    assert.equal(await page('zeta'), 'two');
  });

  test('a check that fails is recorded and reported once, not on every interval', async () => {
    push('live', { version: 'one' });
    await deployImage('eta', imageApp('eta', 'live'));
    const { clock, updater: u } = updater();
    registry.breakRegistry('reg.test');
    try {
      for (let i = 0; i < 3; i++) {
        await pass(u, 'eta');
        clock.jump(5_000);
      }
    } finally {
      registry.repair('reg.test');
    }
    assert.equal(state('eta').lastError!.code, 'REGISTRY_UNREACHABLE');
    const failed = appEvents('eta', 'image.check.failed');
    assert.equal(failed.length, 1);
    assert.equal(failed[0].data!.code, 'REGISTRY_UNREACHABLE');
    await pass(u, 'eta');
    assert.equal(state('eta').lastError, null, 'the next answer clears it');
  });
});

describe('auto-update of a service', () => {
  test('a new digest recreates the service through an update deploy; the release records it, so a rollback restores the old one', async () => {
    const redis = 'reg.test/library/redis';
    remote.publish(`${redis}:7`);
    const d1 = registry.push(`${redis}:7`);
    remote.publish(`${redis}@${d1}`);
    const yaml = `name: theta
health:
  path: /health
  interval: 100ms
  healthy_after: 1
processes:
  web:
    command: node server.js
services:
  cache:
    image: ${redis}:7
    update: 5s
`;
    const d = kit.deployer.start({ app: 'theta', kind: 'deploy', description: 'test', wait: true, source: kit.source(yaml, { version: 'web' }) });
    await kit.deployer.idle('theta');
    assert.equal(kit.ctx.store.deployments.get(d.id)!.state, 'draining');
    const services = kit.ctx.driver.services as FakeServices;
    const cache = () => services.running.get('theta/cache')!.spec.image;
    assert.equal(cache(), `${redis}:7`, 'a service runs its image as written until berth pins it');

    const { clock, updater: u } = updater();
    await pass(u, 'theta');
    // The tag on this machine says nothing about its digest here: berth pins the registry's.
    assert.equal(cache(), `${redis}@${d1}`);
    const v2 = kit.ctx.store.releases.get(kit.ctx.store.apps.get('theta')!.currentRelease!)!;
    assert.equal(v2.serviceImages!.cache, `${redis}@${d1}`);
    assert.equal(deployments('theta')[0].kind, 'update');
    clock.jump(3 * 60_000);
    await pass(u, 'theta');

    const d2 = registry.push(`${redis}:7`);
    remote.publish(`${redis}@${d2}`);
    clock.jump(5_000);
    await pass(u, 'theta');
    assert.equal(cache(), `${redis}@${d2}`);
    assert.equal(state('theta', 'cache').trial!.digest, d2);
    assert.equal(appEvents('theta', 'image.update.found').at(-1)!.data!.service, 'cache');

    // An env change keeps the pin; a rollback to v2 puts d1 back.
    const env = kit.deployer.start({ app: 'theta', kind: 'env', description: 'env: set X', wait: true });
    await kit.deployer.idle('theta');
    assert.equal(kit.ctx.store.releases.get(kit.ctx.store.deployments.get(env.id)!.releaseId!)!.serviceImages!.cache, `${redis}@${d2}`);
    rollback(kit.ctx, kit.deployer, { app: 'theta', release: 'v2' });
    await kit.deployer.idle('theta');
    assert.equal(cache(), `${redis}@${d1}`, 'the rollback runs the digest v2 recorded');
  });
});
