import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { request, waitFor } from '../../test/support/http.ts';
import type { DataPlane, RouteTable } from '../dataplane/route-table.ts';
import { crashFakeInstance } from '../runtime/fake/state.ts';
import { recover } from './recovery.ts';
import { startKit, type Kit } from './kit.test-support.ts';

/**
 * The `rolling` strategy above the runtime port: fake driver, real store, real proxy in process. Every
 * route table the proxy takes is recorded (an honest DataPlane around the real one), and the app's live
 * processes are counted every few milliseconds, so both bounds are checked at every moment of a deploy.
 */
class RecordingDataPlane implements DataPlane {
  readonly tables: RouteTable[] = [];
  readonly #inner: DataPlane;
  constructor(inner: DataPlane) {
    this.#inner = inner;
  }
  start() { return this.#inner.start(); }
  async apply(table: RouteTable) {
    await this.#inner.apply(table);
    this.tables.push(structuredClone(table));
  }
  applyCertificates(...args: Parameters<DataPlane['applyCertificates']>) { return this.#inner.applyCertificates(...args); }
  setChallenges(...args: Parameters<DataPlane['setChallenges']>) { return this.#inner.setChallenges(...args); }
  stats() { return this.#inner.stats(); }
  detach() { return this.#inner.detach(); }
  stop() { return this.#inner.stop(); }
}

const manifest = (deploy: string, replicas = 3) => `name: app
processes:
  web:
    replicas: ${replicas}
health:
  path: /health
  interval: 100ms
  healthy_after: 2
  deadline: 2s
deploy:
  strategy: rolling
  drain_timeout: 300ms
  standby: 1m
${deploy}`;

let kit: Kit;
let plane: RecordingDataPlane;
before(async () => {
  kit = await startKit();
  plane = new RecordingDataPlane(kit.ctx.dataplane);
  // The composition's one data plane, seen by the Routing, the reconciler and the deployer alike.
  kit.ctx.dataplane = plane;
});
after(async () => {
  await kit.close();
});

/** Live fake processes of the app's web, counted every 5 ms while `work` runs: the most seen at once. */
async function countingRunning<T>(app: string, work: () => Promise<T>): Promise<{ result: T; maxRunning: number }> {
  let maxRunning = 0;
  const count = () => {
    let n = 0;
    for (const instance of kit.fake.instances.values()) if (instance.spec.app === app && instance.spec.process === 'web' && instance.process?.alive()) n++;
    maxRunning = Math.max(maxRunning, n);
  };
  const timer = setInterval(count, 5);
  try {
    const result = await work();
    count();
    return { result, maxRunning };
  } finally {
    clearInterval(timer);
  }
}

const deploy = async (app: string, yaml: string, behaviour = {}, options?: { strategy?: 'blue-green' | 'rolling' }) => {
  const d = kit.deployer.start({ app, kind: 'deploy', description: 'test', wait: true, source: kit.source(yaml, behaviour), ...(options ? { options } : {}) });
  await kit.deployer.idle(app);
  return kit.ctx.store.deployments.get(d.id)!;
};
const version = async (app: string) => (JSON.parse((await request({ port: kit.port, host: `${app}.localhost` })).body) as { version: string }).version;
/** Active targets of the app in each table the proxy took from `from` on. */
const activeCounts = (app: string, from: number) => plane.tables.slice(from).map((t) => t.apps[app]?.targets.filter((x) => x.state === 'active').length ?? 0);
const batches = (deploymentId: string) => kit.ctx.store.events.forDeployment(deploymentId).filter((e) => e.type === 'deploy.batch').map((e) => e.data as { batch: number; of: number; started: number; retired: number; rollback?: boolean });

describe('rolling deploys', () => {
  test('max_surge 1: one new instance at a time beside the old three, never more than 4 running nor fewer than 3 serving', async () => {
    await deploy('roll', manifest('  max_surge: 1\n  max_unavailable: 0\n'), { version: 'one' });
    const from = plane.tables.length;
    const { result: second, maxRunning } = await countingRunning('roll', () => deploy('roll', manifest('  max_surge: 1\n  max_unavailable: 0\n'), { version: 'two' }));
    assert.equal(second.state, 'draining', JSON.stringify(second.error));
    assert.ok(maxRunning <= 4, `${maxRunning} web processes ran at once`);
    assert.ok(activeCounts('roll', from).length > 0 && Math.min(...activeCounts('roll', from)) >= 3, `active targets per table: ${activeCounts('roll', from)}`);
    assert.deepEqual(batches(second.id).map((b) => [b.batch, b.of, b.started, b.retired]), [[1, 3, 1, 1], [2, 3, 1, 1], [3, 3, 1, 1]]);
    const states = kit.ctx.store.events.forDeployment(second.id).filter((e) => e.type === 'deploy.state').map((e) => e.data!.state);
    assert.deepEqual(states, ['building', 'rolling', 'switching', 'draining']);
    // Old and new answered side by side during the roll: some table had both releases active.
    assert.ok(plane.tables.slice(from).some((t) => new Set(t.apps.roll!.targets.filter((x) => x.state === 'active').map((x) => x.release)).size === 2));
    assert.equal(await version('roll'), 'two');
    await waitFor('the old release to stop (no standby after a rolling deploy)', () => kit.ctx.store.instances.byRelease(second.previousReleaseId ?? kit.ctx.store.deployments.get(second.id)!.previousReleaseId!).every((i) => i.state === 'stopped'), 5000);
    await waitFor('the deployment to succeed', () => kit.ctx.store.deployments.get(second.id)!.state === 'succeeded', 5000);
  });

  test('max_unavailable 1, max_surge 0: each old instance stops before its replacement starts; 3 running at most, 2 serving at least', async () => {
    const yaml = manifest('  max_surge: 0\n  max_unavailable: 1\n');
    await deploy('inplace', yaml, { version: 'one' });
    const from = plane.tables.length;
    const { result: second, maxRunning } = await countingRunning('inplace', () => deploy('inplace', yaml, { version: 'two' }));
    assert.equal(second.state, 'draining', JSON.stringify(second.error));
    assert.ok(maxRunning <= 3, `${maxRunning} web processes ran at once`);
    assert.ok(activeCounts('inplace', from).length > 0 && Math.min(...activeCounts('inplace', from)) >= 2, `active targets per table: ${activeCounts('inplace', from)}`);
    assert.equal(batches(second.id).length, 3);
    assert.equal(await version('inplace'), 'two');
  });

  test('an instance of batch 2 of 3 crashes: the deploy fails, the old release gets its 3 replicas back, capacity never below 3', async () => {
    const yaml = manifest('  max_surge: 1\n  max_unavailable: 0\n');
    const first = await deploy('crash', yaml, { version: 'one' });
    const from = plane.tables.length;
    // The second new instance is killed as soon as it starts (its exit reaches the health gate).
    let started = 0;
    const unsubscribe = kit.ctx.store.events.subscribe((event) => {
      if (event.app !== 'crash' || event.type !== 'instance.started' || event.deploymentId === first.id) return;
      if (++started === 2) void crashFakeInstance(kit.fake, (event.data as { instance: string }).instance);
    });
    const { result: failed, maxRunning } = await countingRunning('crash', () => deploy('crash', yaml, { version: 'two' })).finally(unsubscribe);
    assert.equal(failed.state, 'failed');
    assert.equal(failed.error!.code, 'START_FAILED', JSON.stringify(failed.error));
    assert.ok(maxRunning <= 4, `${maxRunning} web processes ran at once`);
    assert.ok(activeCounts('crash', from).length > 0 && Math.min(...activeCounts('crash', from)) >= 3, `active targets per table: ${activeCounts('crash', from)}`);
    const rolled = batches(failed.id);
    assert.deepEqual(rolled.filter((b) => !b.rollback).map((b) => [b.batch, b.started, b.retired]), [[1, 1, 1]], 'one batch went through');
    assert.deepEqual(rolled.filter((b) => b.rollback).map((b) => [b.started, b.retired]), [[1, 1]], 'one old slot put back, the new instance retired');
    await waitFor('the new release to be gone', () => kit.ctx.store.instances.byRelease(failed.releaseId!).every((i) => i.state === 'stopped' || i.state === 'failed'), 5000);
    const serving = kit.ctx.store.instances.live('crash').filter((i) => i.state === 'serving');
    assert.deepEqual(serving.map((i) => i.releaseId), [first.releaseId, first.releaseId, first.releaseId]);
    assert.equal(kit.ctx.store.apps.get('crash')!.currentRelease, first.releaseId);
    assert.equal(await version('crash'), 'one');
  });

  test('a release that never gets healthy fails at its first batch; nothing of the old release was retired', async () => {
    const yaml = manifest('  max_surge: 1\n  max_unavailable: 0\n');
    const first = await deploy('sick', yaml, { version: 'one' });
    const failed = await deploy('sick', yaml, { version: 'two', health: 'fail' });
    assert.equal(failed.state, 'failed');
    assert.equal(failed.error!.code, 'HEALTH_CHECK_FAILED');
    assert.equal(kit.ctx.store.instances.live('sick').filter((i) => i.state === 'serving' && i.releaseId === first.releaseId).length, 3);
    assert.deepEqual(kit.ctx.store.instances.byRelease(failed.releaseId!).map((i) => i.state), ['failed']);
  });

  test('a first deploy and a --strategy blue-green deploy switch at once; the next rolling one rolls', async () => {
    const yaml = manifest('  max_surge: 2\n  max_unavailable: 0\n');
    const first = await deploy('mixed', yaml, { version: 'one' });
    assert.deepEqual(batches(first.id), []);
    const green = await deploy('mixed', yaml, { version: 'two' }, { strategy: 'blue-green' });
    assert.deepEqual(batches(green.id), []);
    const rolled = await deploy('mixed', yaml, { version: 'three' });
    assert.deepEqual(batches(rolled.id).map((b) => [b.started, b.retired]), [[2, 2], [1, 1]]);
  });

  test('a rollback to a release kept warm switches at once; a cold one rolls', async () => {
    const yaml = manifest('  max_surge: 1\n  max_unavailable: 0\n');
    const one = await deploy('back', yaml, { version: 'one' });
    const two = await deploy('back', yaml, { version: 'two' }, { strategy: 'blue-green' });
    await waitFor('v1 in standby', () => kit.ctx.store.instances.byRelease(one.releaseId!).filter((i) => i.state === 'standby').length === 3, 5000);
    const rollback = (target: string) => {
      const d = kit.deployer.start({ app: 'back', kind: 'rollback', description: 'rollback', wait: true, target: kit.ctx.store.releases.get(target)! });
      return kit.deployer.idle('back').then(() => kit.ctx.store.deployments.get(d.id)!);
    };
    const warm = await rollback(one.releaseId!);
    assert.equal(warm.state, 'draining', JSON.stringify(warm.error));
    assert.deepEqual(batches(warm.id), [], 'warm: no batches');
    assert.equal(await version('back'), 'one');
    // v2 was replaced by a blue-green switch, so it waits warm now: stop it to make the next rollback cold.
    await waitFor('v2 in standby', () => kit.ctx.store.instances.byRelease(two.releaseId!).some((i) => i.state === 'standby'), 5000);
    for (const i of kit.ctx.store.instances.byRelease(two.releaseId!)) if (i.state === 'standby') kit.ctx.store.instances.move(i.id, 'stopping', Date.now());
    await waitFor('v2 stopped', () => kit.ctx.store.instances.byRelease(two.releaseId!).every((i) => i.state === 'stopped'), 5000);
    const cold = await rollback(two.releaseId!);
    assert.equal(cold.state, 'draining', JSON.stringify(cold.error));
    assert.equal(batches(cold.id).length, 3, 'cold: rolled in 3 batches');
    assert.equal(await version('back'), 'two');
  });

  test('web and a worker roll in start order; one web replica replaced in place says nothing served meanwhile', async () => {
    const yaml = `name: app
processes:
  web:
    replicas: 1
  worker:
    command: node worker.js
    replicas: 2
    depends_on: [web]
health:
  path: /health
  interval: 100ms
  healthy_after: 2
  deadline: 2s
deploy:
  strategy: rolling
  max_surge: 0
  max_unavailable: 1
  drain_timeout: 300ms
`;
    await deploy('duo', yaml, { version: 'one' });
    const second = await deploy('duo', yaml, { version: 'two' });
    assert.equal(second.state, 'draining', JSON.stringify(second.error));
    const events = kit.ctx.store.events.forDeployment(second.id).filter((e) => e.type === 'deploy.batch');
    assert.deepEqual(events.map((e) => [e.data!.process, e.data!.batch, e.data!.of]), [['web', 1, 1], ['worker', 1, 2], ['worker', 2, 2]]);
    assert.match(events[0]!.message, /none served meanwhile/);
    const live = kit.ctx.store.instances.live('duo').filter((i) => i.state === 'serving');
    assert.deepEqual(live.map((i) => `${i.process}.${i.ordinal}:${i.releaseId === second.releaseId}`).sort(), ['web.0:true', 'worker.0:true', 'worker.1:true']);
  });

  test('interrupted mid-roll, then the daemon starts again: recovery puts the serving release back on its replicas', async () => {
    const yaml = manifest('  max_surge: 1\n  max_unavailable: 0\n');
    const first = await deploy('cut', yaml, { version: 'one' });
    const d = kit.deployer.start({ app: 'cut', kind: 'deploy', description: 'test', wait: true, source: kit.source(yaml, { version: 'two' }) });
    await waitFor('the first batch', () => batches(d.id).length === 1, 5000, 5);
    await kit.deployer.cancelAll('the berth server is stopping');
    const cut = kit.ctx.store.deployments.get(d.id)!;
    assert.equal(cut.state, 'interrupted');
    assert.equal(kit.ctx.store.instances.byRelease(cut.releaseId!).filter((i) => i.state === 'serving').length, 1, 'the new instance that served was left serving');
    await recover(kit.ctx, kit.routing);
    const serving = kit.ctx.store.instances.live('cut').filter((i) => i.state === 'serving');
    assert.deepEqual(serving.map((i) => i.releaseId), [first.releaseId, first.releaseId, first.releaseId]);
    await waitFor('the new release to stop', () => kit.ctx.store.instances.byRelease(cut.releaseId!).every((i) => i.state === 'stopped' || i.state === 'failed'), 5000);
    assert.equal(await version('cut'), 'one');
  });
});
