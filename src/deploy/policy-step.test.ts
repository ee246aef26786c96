import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { request } from '../../test/support/http.ts';
import { PolicyGate } from '../policy/gate.ts';
import { startKit, type Kit } from './kit.test-support.ts';

/** The policy gate in the deploy runbook: fake driver, real store, real proxy, real policy files. */
const manifest = (extra = '') => `name: app
health:
  path: /health
  interval: 100ms
  healthy_after: 1
  deadline: 2s
deploy:
  drain_timeout: 200ms
${extra}`;

const GiB = 1024 ** 3;
let kit: Kit;
let dir: string;
const write = (name: string, text: string) => {
  const path = join(dir, name);
  let before = 0;
  try {
    before = statSync(path).mtimeMs;
  } catch {}
  writeFileSync(path, text);
  if (before) utimesSync(path, new Date(before + 1000), new Date(before + 1000));
};
const frozen = (apps: string[]) => `policies:
  - name: frozen
    when: deploy
    expr: '!(app.name in ${JSON.stringify(apps)})'
    message: this app is frozen for the release week
`;

before(async () => {
  kit = await startKit();
  dir = join(kit.dir, 'policies');
  mkdirSync(dir);
  write('server.yaml', frozen([]));
  kit.ctx.policies = new PolicyGate({ dir, dataDir: kit.dir, host: () => ({ diskFreeBytes: 40 * GiB, load1: 0.1, memoryFreeBytes: GiB, memoryTotalBytes: 2 * GiB, cores: 2 }) });
});
after(async () => {
  await kit.close();
});

const deploy = async (app: string, yaml: string, behaviour = {}) => {
  const d = kit.deployer.start({ app, kind: 'deploy', description: 'test', wait: true, source: kit.source(yaml, behaviour) });
  await kit.deployer.idle(app);
  return kit.ctx.store.deployments.get(d.id)!;
};
const version = async (app: string) => (JSON.parse((await request({ port: kit.port, host: `${app}.localhost` })).body) as { version: string }).version;
const events = (id: string) => kit.ctx.store.events.forDeployment(id);

describe('policy gate before a deploy', () => {
  test('an allowed deploy records its verdicts and goes on', async () => {
    const d = await deploy('open', manifest(), { version: 'one' });
    assert.equal(d.state, 'draining');
    const verdicts = events(d.id).filter((e) => e.type === 'policy.verdict');
    assert.deepEqual(verdicts.map((e) => e.data), [{ policy: 'frozen', when: 'deploy', allowed: true, reason: 'passed', source: 'policies/server.yaml:2', facts: { 'app.name': 'open' } }]);
    assert.equal(events(d.id).filter((e) => e.type === 'policy.violation').length, 0);
  });

  test('a server policy edited on disk denies the next deploy with POLICY_DENIED before anything starts; the old release keeps serving', async () => {
    const first = await deploy('shop', manifest(), { version: 'one' });
    assert.equal(first.state, 'draining');
    write('server.yaml', frozen(['shop']));
    const denied = await deploy('shop', manifest(), { version: 'two' });
    assert.equal(denied.state, 'failed');
    assert.equal(denied.error!.code, 'POLICY_DENIED');
    assert.equal(denied.error!.message, 'policy "frozen" denied the deploy: this app is frozen for the release week');
    assert.match(denied.error!.hint!, /policies\/server\.yaml:2/);
    const all = events(denied.id);
    const types = all.map((e) => e.type);
    assert.ok(types.indexOf('policy.verdict') < types.indexOf('policy.violation') && types.indexOf('policy.violation') < types.indexOf('deploy.failed'));
    assert.ok(!all.some((e) => e.type === 'deploy.state' && ['releasing', 'starting'].includes(e.data!.state as string)), 'nothing started');
    assert.deepEqual(all.find((e) => e.type === 'policy.violation')!.data, { check: 'frozen', reason: 'this app is frozen for the release week', deployment: denied.id });
    assert.deepEqual(kit.ctx.store.instances.byRelease(denied.releaseId!), [], 'no instance of the denied release');
    assert.equal(kit.ctx.store.releases.get(denied.releaseId!)!.status, 'failed');
    assert.equal(await version('shop'), 'one');
    // A rollback is the way back: never gated, even while a policy denies the app's deploys.
    const rollback = kit.deployer.start({ app: 'shop', kind: 'rollback', description: 'rollback', wait: true, target: kit.ctx.store.releases.get(first.releaseId!)! });
    await kit.deployer.idle('shop');
    assert.notEqual(kit.ctx.store.deployments.get(rollback.id)!.state, 'failed');
    assert.ok(!events(rollback.id).some((e) => e.type.startsWith('policy.')));
    write('server.yaml', frozen([]));
    assert.equal((await deploy('shop', manifest(), { version: 'three' })).state, 'draining', 'unfrozen without a restart');
    assert.equal(await version('shop'), 'three');
  });

  test('an app policy from berth.yaml judges the release: env names, processes with replicas', async () => {
    const policy = `policies:
  - name: two-web
    expr: release.processes["web"] >= 2
    message: run at least two web replicas
`;
    const one = await deploy('cart', manifest(policy));
    assert.equal(one.error?.code, 'POLICY_DENIED');
    assert.equal(one.error!.message, 'policy "two-web" denied the deploy: run at least two web replicas');
    assert.match(one.error!.hint!, /in berth\.yaml/);
    const verdict = events(one.id).find((e) => e.type === 'policy.verdict' && e.data!.policy === 'two-web')!;
    assert.deepEqual(verdict.data!.facts, { 'release.processes': { web: 1 } });
    const two = await deploy('cart', manifest(`processes:\n  web:\n    replicas: 2\n${policy}`));
    assert.equal(two.state, 'draining');
  });

  test('a policy that does not load refuses every deploy with POLICY_INVALID, naming the file and policy', async () => {
    write('typo.yaml', 'policies:\n  - name: typo\n    when: deploy\n    expr: host.diskFre > 0\n    message: m\n');
    try {
      const d = await deploy('typo', manifest());
      assert.equal(d.error?.code, 'POLICY_INVALID');
      assert.match(d.error!.message, /policies\/typo\.yaml:2: policy "typo": unknown fact "host.diskFre"/);
      assert.ok(!events(d.id).some((e) => e.type === 'policy.verdict'));
    } finally {
      write('typo.yaml', '');
    }
  });
});
