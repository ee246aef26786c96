import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from '../../test/support/http.ts';
import { parseManifest } from '../manifest/load.ts';
import { FakeRegistry } from '../registry/fake.test-support.ts';
import { FakeRemoteImages } from '../runtime/fake/images.ts';
import type { FakeBehaviour } from '../runtime/fake/behaviour.ts';
import type { DeployOptions } from './deploy-options.ts';
import { MAX_LOG_EVENTS_PER_CHECK, targetEnv } from './checks.ts';
import { releaseFacts } from './policy-step.ts';
import { startKit, type Kit } from './kit.test-support.ts';

/** The check pipeline in the deploy runbook: fake driver (scripted one-off runs), real store, real proxy. */
const manifest = (checks = '') => `name: app
health:
  path: /health
  interval: 100ms
  healthy_after: 1
  deadline: 2s
deploy:
  drain_timeout: 200ms
${checks}`;

const LINT_TEST = `checks:
  - name: lint
    run: npm run lint
  - name: test
    run: npm test
    timeout: 1s
`;
const SMOKE = `  - name: smoke
    run: node smoke.js
    when: switch
`;

let kit: Kit;
before(async () => {
  kit = await startKit();
});
after(async () => {
  await kit.close();
});

const deploy = async (app: string, yaml: string, behaviour: FakeBehaviour = {}, options?: DeployOptions) => {
  const d = kit.deployer.start({ app, kind: 'deploy', description: 'test', wait: true, source: kit.source(yaml, behaviour), ...(options ? { options } : {}) });
  await kit.deployer.idle(app);
  return kit.ctx.store.deployments.get(d.id)!;
};
const version = async (app: string) => (JSON.parse((await request({ port: kit.port, host: `${app}.localhost` })).body) as { version: string }).version;
const events = (id: string) => kit.ctx.store.events.forDeployment(id);
const states = (id: string) => events(id).filter((e) => e.type === 'deploy.state').map((e) => e.data!.state);
const checkEvents = (id: string) => events(id).filter((e) => e.type.startsWith('check')).map((e) => `${e.type} ${e.message}`);
/** The build of a deployment that recorded no release: the newest build row of the app. */
const newestBuild = (app: string) => kit.ctx.store.builds.listByApp(app).at(-1)!;

describe('build checks', () => {
  test('lint and test pass in order, their output and durations are events, then the deploy goes on; the release records them', async () => {
    const oneOff = { 'npm run lint': { output: ['lint: 0 problems'] }, 'npm test': { output: ['test 1 ok', 'test 2 ok'], delayMs: 50 } };
    const d = await deploy('passes', manifest(LINT_TEST), { version: 'one', oneOff });
    assert.equal(d.state, 'draining', JSON.stringify(d.error));
    assert.deepEqual(states(d.id), ['building', 'checking', 'starting', 'verifying', 'switching', 'draining']);
    const got = checkEvents(d.id);
    assert.deepEqual(got.slice(0, 3), ['check.started check lint: `npm run lint`', 'check.log lint: 0 problems', got[2]]);
    assert.match(got[2], /^check\.passed check lint passed in \d\.\d s$/);
    assert.deepEqual(got.slice(3, 6), ['check.started check test: `npm test`', 'check.log test 1 ok', 'check.log test 2 ok']);
    const passed = events(d.id).filter((e) => e.type === 'check.passed').map((e) => e.data!);
    assert.deepEqual(passed.map((p) => [p.check, p.when, p.exitCode]), [['lint', 'build', 0], ['test', 'build', 0]]);
    assert.ok((passed[1].durationMs as number) >= 50, 'the duration is measured');
    assert.deepEqual(events(d.id).find((e) => e.type === 'check.log')!.data, { check: 'lint', stream: 'stdout' });
    const release = kit.ctx.store.releases.get(d.releaseId!)!;
    assert.deepEqual(release.checks, { passed: ['lint', 'test'], skipped: false });
    assert.deepEqual(releaseFacts(kit, release).checks, ['lint', 'test'], 'the `release.checks` policy fact');
    // The checks ran before the release was recorded: the release's events come after the last check.
    const types = events(d.id).map((e) => e.type);
    assert.ok(types.lastIndexOf('check.passed') < types.indexOf('instance.started'));
  });

  test('a failing lint stops the deploy before anything starts, naming the check; no release, the build removed, the old release serving', async () => {
    const good = await deploy('fails', manifest(), { version: 'one' });
    assert.equal(good.state, 'draining');
    const oneOff = { 'npm run lint': { output: ['src/a.ts:1 missing semicolon'], exitCode: 1 } };
    const d = await deploy('fails', manifest(LINT_TEST), { version: 'two', oneOff });
    assert.equal(d.state, 'failed');
    assert.equal(d.error!.code, 'CHECK_FAILED');
    assert.equal(d.error!.message, 'check `lint` failed: exited with code 1');
    assert.match(d.error!.hint!, /nothing was started/);
    assert.match(d.error!.hint!, /npm run lint/);
    assert.ok(d.error!.logTail.includes('src/a.ts:1 missing semicolon'), JSON.stringify(d.error));
    assert.deepEqual(states(d.id), ['building', 'checking']);
    assert.equal(events(d.id).at(-1)!.type, 'deploy.failed');
    assert.ok(!events(d.id).some((e) => e.type === 'instance.started' || e.type === 'policy.verdict'), 'nothing started, no gate judged');
    assert.ok(!checkEvents(d.id).some((e) => e.includes('check test')), 'fail-fast: test never ran');
    const failed = events(d.id).find((e) => e.type === 'check.failed')!;
    assert.equal(failed.data!.exitCode, 1);
    assert.equal(failed.data!.reason, 'exited with code 1');
    assert.equal(d.releaseId, null, 'no release was recorded for the failed build');
    assert.equal(kit.ctx.store.releases.listByApp('fails').length, 1);
    assert.notEqual(newestBuild('fails').removedAt, null, 'the build artifact was removed');
    assert.equal(await version('fails'), 'one');
  });

  test('a check that runs past its timeout is stopped and fails the deploy, saying so', async () => {
    const d = await deploy('slow', manifest(LINT_TEST), { version: 'one', oneOff: { 'npm test': { delayMs: 5000 } } });
    assert.equal(d.state, 'failed');
    assert.equal(d.error!.code, 'CHECK_FAILED');
    assert.equal(d.error!.message, 'check `test` failed: it did not finish within 1.0 s and was stopped');
    assert.match(d.error!.hint!, /raise its `timeout` under `checks`/);
    const failed = events(d.id).find((e) => e.type === 'check.failed')!.data!;
    assert.equal(failed.exitCode, null);
    assert.ok((failed.durationMs as number) >= 1000 && (failed.durationMs as number) < 4000, String(failed.durationMs));
  });

  test('a secret a check prints is masked in its events and in the failure report', async () => {
    const secret = 'sk-live-7b1c9a0e55d2f3';
    kit.ctx.store.apps.get('masked') ?? (await deploy('masked', manifest(), { version: 'one' }));
    kit.ctx.store.env.set('masked', 'API_TOKEN', kit.ctx.sealer.seal(secret), Date.now());
    const d = await deploy('masked', manifest(LINT_TEST), { version: 'two', oneOff: { 'npm run lint': { output: ['token is ${API_TOKEN}'], exitCode: 2 } } });
    assert.equal(d.error!.code, 'CHECK_FAILED');
    const lines = events(d.id).filter((e) => e.type === 'check.log').map((e) => e.message);
    assert.equal(lines.length, 1);
    assert.ok(!lines[0].includes(secret) && lines[0].startsWith('token is '), lines[0]);
    assert.ok(!JSON.stringify(d.error).includes(secret));
    assert.ok(!JSON.stringify(events(d.id)).includes(secret));
  });

  test('a check printing without end writes a bounded number of events; the tail keeps the last lines', async () => {
    const output = Array.from({ length: MAX_LOG_EVENTS_PER_CHECK + 25 }, (_, i) => `line ${i}`);
    const d = await deploy('chatty', manifest(LINT_TEST), { version: 'one', oneOff: { 'npm run lint': { output, exitCode: 1 } } });
    const logs = events(d.id).filter((e) => e.type === 'check.log');
    assert.equal(logs.length, MAX_LOG_EVENTS_PER_CHECK + 1);
    assert.equal(logs.at(-1)!.message, '(25 more lines of lint left out of the events)');
    assert.ok(d.error!.logTail.includes(`line ${MAX_LOG_EVENTS_PER_CHECK + 24}`));
  });
});

describe('switch checks', () => {
  test('run against the new instances before the switch, with BERTH_TARGET_URL; the release records them after the build ones', async () => {
    const oneOff = { 'node smoke.js': { output: ['target ${BERTH_TARGET_URL} of ${BERTH_TARGET_ADDRESSES}'] } };
    const d = await deploy('smoke', manifest(LINT_TEST + SMOKE), { version: 'one', oneOff });
    assert.equal(d.state, 'draining', JSON.stringify(d.error));
    assert.deepEqual(states(d.id), ['building', 'checking', 'starting', 'verifying', 'checking', 'switching', 'draining']);
    const web = kit.ctx.store.instances.byRelease(d.releaseId!).find((i) => i.process === 'web')!;
    const line = events(d.id).find((e) => e.type === 'check.log' && e.data!.check === 'smoke')!;
    assert.equal(line.message, `target http://${web.address} of ${web.address}`);
    const types = events(d.id).map((e) => e.type);
    assert.ok(types.lastIndexOf('check.passed') < types.indexOf('deploy.switched'));
    assert.deepEqual(kit.ctx.store.releases.get(d.releaseId!)!.checks, { passed: ['lint', 'test', 'smoke'], skipped: false });
  });

  test('a failing switch check stops the deploy before the switch: the new instances stop, the old release keeps serving', async () => {
    assert.equal((await deploy('gate', manifest(), { version: 'one' })).state, 'draining');
    const d = await deploy('gate', manifest(`checks:\n${SMOKE}`), { version: 'two', oneOff: { 'node smoke.js': { output: ['POST /jobs -> 500'], exitCode: 3 } } });
    assert.equal(d.state, 'failed');
    assert.equal(d.error!.message, 'check `smoke` failed: exited with code 3');
    assert.match(d.error!.hint!, /no traffic moved to the new instances/);
    assert.ok(!events(d.id).some((e) => e.type === 'deploy.switched'));
    assert.equal(kit.ctx.store.releases.get(d.releaseId!)!.status, 'failed');
    assert.ok(kit.ctx.store.instances.byRelease(d.releaseId!).every((i) => i.state === 'failed' || i.state === 'stopped'), 'the new instances were stopped');
    assert.equal(await version('gate'), 'one');
  });

  test('rolling: the switch checks run once, against the first batch, before any new instance gets traffic; a failure leaves the old release on its replicas', async () => {
    const rolling = (checks: string) => manifest(checks).replace('deploy:\n', 'processes:\n  web:\n    replicas: 2\ndeploy:\n  strategy: rolling\n');
    assert.equal((await deploy('roll', rolling(''), { version: 'one' })).state, 'draining');
    const oneOff = { 'node smoke.js': { output: ['target ${BERTH_TARGET_ADDRESSES}'] } };
    const d = await deploy('roll', rolling(`checks:\n${SMOKE}`), { version: 'two', oneOff });
    assert.equal(d.state, 'draining', JSON.stringify(d.error));
    const types = events(d.id).map((e) => e.type);
    assert.equal(types.filter((t) => t === 'check.passed').length, 1, 'once per deploy, not per batch');
    assert.ok(types.indexOf('check.passed') < types.indexOf('deploy.batch'), 'before the first batch serves');
    const first = kit.ctx.store.instances.byRelease(d.releaseId!).filter((i) => i.process === 'web').sort((a, b) => a.createdAt - b.createdAt)[0]!;
    assert.equal(events(d.id).find((e) => e.type === 'check.log')!.message, `target ${first.address}`, 'the first batch only');
    assert.equal(states(d.id).filter((s) => s === 'rolling').length, 2, 'back to rolling after the checks');

    const bad = await deploy('roll', rolling(`checks:\n${SMOKE}`), { version: 'three', oneOff: { 'node smoke.js': { exitCode: 1 } } });
    assert.equal(bad.state, 'failed');
    assert.equal(bad.error!.message, 'check `smoke` failed: exited with code 1');
    assert.ok(!events(bad.id).some((e) => e.type === 'deploy.batch' && !e.data!.rollback), 'no new instance served');
    assert.equal(await version('roll'), 'two');
  });

  test('targetEnv: every new web instance, the first as the URL; nothing without a web instance', () => {
    const env = targetEnv([
      { process: 'worker', address: null },
      { process: 'web', address: '172.18.0.5:3000' },
      { process: 'web', address: '172.18.0.6:3000' },
    ]);
    assert.deepEqual(env, { BERTH_TARGET_URL: 'http://172.18.0.5:3000', BERTH_TARGET_ADDRESSES: '172.18.0.5:3000,172.18.0.6:3000' });
    assert.deepEqual(targetEnv([{ process: 'worker', address: null }]), {});
  });
});

describe('skipping and not running checks', () => {
  test('--skip-checks runs none, build or switch, and one checks.skipped event lists them; the release says so', async () => {
    const oneOff = { 'npm run lint': { exitCode: 1 }, 'node smoke.js': { exitCode: 1 } };
    const d = await deploy('skipper', manifest(LINT_TEST + SMOKE), { version: 'one', oneOff }, { skipChecks: true });
    assert.equal(d.state, 'draining', JSON.stringify(d.error));
    const skipped = events(d.id).filter((e) => e.type.startsWith('check'));
    assert.deepEqual(skipped.map((e) => [e.type, e.message, e.data]), [['checks.skipped', 'checks skipped (--skip-checks): lint, test, smoke', { checks: ['lint', 'test', 'smoke'] }]]);
    assert.ok(!states(d.id).includes('checking'));
    const release = kit.ctx.store.releases.get(d.releaseId!)!;
    assert.deepEqual(release.checks, { passed: [], skipped: true });
    assert.deepEqual(releaseFacts(kit, release).checks, []);
  });

  test('an app without checks writes no check event; a rollback, an env change and a scale run none and keep the recorded list', async () => {
    const plain = await deploy('calm', manifest(), { version: 'one' });
    assert.ok(!events(plain.id).some((e) => e.type.startsWith('check')));
    const checked = await deploy('calm', manifest(LINT_TEST + SMOKE), { version: 'two' });
    assert.equal(checked.state, 'draining', JSON.stringify(checked.error));
    const target = kit.ctx.store.releases.get(checked.releaseId!)!;
    await deploy('calm', manifest(), { version: 'three' });
    const rollback = kit.deployer.start({ app: 'calm', kind: 'rollback', description: 'rollback', wait: true, target });
    await kit.deployer.idle('calm');
    assert.notEqual(kit.ctx.store.deployments.get(rollback.id)!.state, 'failed');
    assert.ok(!events(rollback.id).some((e) => e.type.startsWith('check')), 'a rollback runs no checks');
    assert.deepEqual(releaseFacts(kit, kit.ctx.store.releases.get(target.id)!).checks, ['lint', 'test', 'smoke'], 'its facts use the recorded list');
    const scale = kit.deployer.start({ app: 'calm', kind: 'scale', description: 'scale', wait: true });
    await kit.deployer.idle('calm');
    assert.notEqual(kit.ctx.store.deployments.get(scale.id)!.state, 'failed');
    assert.ok(!events(scale.id).some((e) => e.type.startsWith('check')), 'a scale runs no checks');
  });
});

describe('an image app', () => {
  const REPO = 'reg.test/acme/checked';
  const remote = new FakeRemoteImages();
  let images: Kit;
  before(async () => {
    images = await startKit({ images: remote });
  });
  after(async () => {
    await images.close();
  });

  test('its build checks run in the pulled image before the release is recorded; a failure frees the image and records nothing', async () => {
    const push = (tag: string, behaviour: FakeBehaviour) => remote.publish(`${REPO}@${(images.ctx.registry as FakeRegistry).push(`${REPO}:${tag}`)}`, behaviour);
    push('good', { version: 'one', oneOff: { 'npm run lint': { output: ['clean'] } } });
    push('bad', { version: 'two', oneOff: { 'npm run lint': { output: ['dirty'], exitCode: 1 } } });
    const run = async (tag: string) => {
      const d = images.deployer.start({ app: 'img', kind: 'deploy', description: 'test', wait: true, source: { manifest: parseManifest(`${manifest(LINT_TEST)}image: ${REPO}:${tag}\n`) } });
      await images.deployer.idle('img');
      return images.ctx.store.deployments.get(d.id)!;
    };
    const good = await run('good');
    assert.equal(good.state, 'draining', JSON.stringify(good.error));
    assert.deepEqual(images.ctx.store.releases.get(good.releaseId!)!.checks, { passed: ['lint', 'test'], skipped: false });
    const bad = await run('bad');
    assert.equal(bad.error!.message, 'check `lint` failed: exited with code 1');
    assert.equal(bad.releaseId, null);
    assert.equal(images.ctx.store.releases.listByApp('img').length, 1);
    assert.notEqual(images.ctx.store.builds.listByApp('img').at(-1)!.removedAt, null, 'the pulled image was freed');
    assert.equal((JSON.parse((await request({ port: images.port, host: 'img.localhost' })).body) as { version: string }).version, 'one');
  });
});
