import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PolicyCheck, PolicyList } from '../model/wire.ts';
import { wireIssues } from '../model/wire-check.ts';
import { writeDefaultPolicies } from '../policy/defaults.ts';
import { PolicyGate } from '../policy/gate.ts';
import { waitFor } from '../../test/support/http.ts';
import { appArchive, startApi, type TestApi } from './inject.test-support.ts';

/** `GET /v1/policies` and `GET /v1/apps/:app/policy-check` through the API, over real policy files. */
let api: TestApi;
let dir: string;
let load1 = 0.1;
const GiB = 1024 ** 3;
before(async () => {
  api = await startApi();
  dir = join(api.kit.dir, 'policies');
  writeDefaultPolicies(dir);
  api.kit.ctx.policies = new PolicyGate({ dir, dataDir: api.kit.dir, host: () => ({ diskFreeBytes: 30 * GiB, load1, memoryFreeBytes: GiB, memoryTotalBytes: 2 * GiB, cores: 2 }) });
});
after(() => api.close());

const list = async (query = '') => {
  const reply = await api.call('GET', `/v1/policies${query}`);
  if (reply.status === 200) assert.deepEqual(wireIssues(PolicyList, reply.body), [], reply.text);
  return reply;
};
const check = async (app: string) => {
  const reply = await api.call('GET', `/v1/apps/${app}/policy-check`);
  if (reply.status === 200) assert.deepEqual(wireIssues(PolicyCheck, reply.body), [], reply.text);
  return reply;
};

const manifest = `name: shop
health:
  path: /health
  interval: 100ms
  deadline: 2s
env:
  API_KEY: sk-very-secret-value
policies:
  - name: no-debug
    expr: '!("DEBUG" in release.env)'
    message: DEBUG must not be set in production
`;

test('the server\'s policies with file and line; an app\'s from its serving release', async () => {
  const server = await list();
  assert.equal(server.status, 200);
  assert.equal(server.body.app, null);
  assert.deepEqual(server.body.policies.slice(0, 2).map((p: any) => [p.name, p.when, p.scope, p.source.file, p.source.line]), [
    ['disk-free', 'deploy', 'server', 'policies/defaults.yaml', 9],
    ['load', 'deploy', 'server', 'policies/defaults.yaml', 14],
  ]);
  assert.equal(server.body.policies.length, 6);
  await api.deploy('shop', manifest);
  const withApp = await list('?app=shop');
  assert.deepEqual(withApp.body.policies.at(-1), { name: 'no-debug', when: 'deploy', expr: '!("DEBUG" in release.env)', message: 'DEBUG must not be set in production', scope: 'app', source: { file: 'berth.yaml', line: null } });
  assert.equal((await list('?app=nope')).body.error.code, 'APP_NOT_FOUND');
  assert.equal((await list(`?app=${'x'.repeat(65)}`)).status, 400);
});

test('a dry run judges the deploy moment now, writes no event, and shows env names but never values', async () => {
  // A var set with `berth env` rolls out as v2, through the gate too (its verdicts are events of that deployment).
  assert.equal((await api.call('PATCH', '/v1/apps/shop/env', { body: { set: { STRIPE_TOKEN: 'tok-also-secret' } } })).status, 202);
  await api.kit.deployer.idle('shop');
  // The drain ends on the reconciler's clock (deploy.succeeded): counted after it, so only a dry run could add one.
  await waitFor('the env deploy to finish draining', () => api.kit.ctx.store.deployments.listByApp('shop', 1)[0]?.state === 'succeeded' || undefined, 10_000);
  const gated = api.kit.ctx.store.events.forApp('shop', 1000).filter((e) => e.type === 'policy.verdict');
  assert.equal(gated.length, 6, 'three verdicts for each deployment');
  assert.ok(!JSON.stringify(gated).includes('secret'), 'no env value in an event');
  const events = api.kit.ctx.store.events.forApp('shop', 1000).length;
  const ok = await check('shop');
  assert.equal(ok.status, 200);
  assert.equal(ok.body.allowed, true);
  assert.equal(ok.body.release, 'v2');
  assert.deepEqual(ok.body.verdicts.map((v: any) => [v.policy, v.allowed]), [['disk-free', true], ['load', true], ['no-debug', true]]);
  assert.deepEqual(ok.body.verdicts[2].facts, { 'release.env': ['API_KEY', 'STRIPE_TOKEN'] });
  assert.ok(!ok.text.includes('secret'));
  load1 = 21; // above 10 x 2 cores
  const busy = await check('shop');
  assert.equal(busy.body.allowed, false);
  assert.deepEqual(busy.body.verdicts[1], { policy: 'load', when: 'deploy', allowed: false, reason: 'the 1-minute load average is above 10 x the cores; deploy when the machine is less busy', source: { file: 'policies/defaults.yaml', line: 14 }, facts: { 'host.cores': 2, 'host.load1': 21 } });
  load1 = 0.1;
  assert.equal(api.kit.ctx.store.events.forApp('shop', 1000).length, events, 'a dry run writes no event');
});

test('a policy file that does not load is listed as a problem and makes the check refuse', async () => {
  writeFileSync(join(dir, 'bad.yaml'), 'policies:\n  - name: bad\n    when: deploy\n    expr: host.load1 >\n    message: m\n');
  try {
    const listed = await list();
    assert.equal(listed.body.problems.length, 1);
    assert.match(listed.body.problems[0].problem, /expr does not parse/);
    assert.deepEqual([listed.body.problems[0].file, listed.body.problems[0].policy, listed.body.problems[0].line], ['policies/bad.yaml', 'bad', 2]);
    const refused = await check('shop');
    assert.equal(refused.body.allowed, false);
    assert.equal(refused.body.problems.length, 1);
  } finally {
    writeFileSync(join(dir, 'bad.yaml'), '');
  }
});

test('errors: an unknown app is 404, an app without a release 409', async () => {
  assert.equal((await check('nope')).body.error.code, 'APP_NOT_FOUND');
  await api.call('POST', '/v1/apps', { body: { name: 'empty' } });
  const none = await check('empty');
  assert.equal(none.status, 409);
  assert.equal(none.body.error.code, 'APP_HAS_NO_RELEASE');
});

test('an upload whose berth.yaml policy does not compile is refused before anything is recorded', async () => {
  const yaml = 'name: typo\npolicies:\n  - name: typo\n    expr: release.replicas > 1\n    message: m\n';
  const reply = await api.call('POST', '/v1/apps/typo/deploys', { body: appArchive(yaml), headers: { 'content-type': 'application/gzip' } });
  assert.equal(reply.status, 409);
  assert.equal(reply.body.error.code, 'POLICY_INVALID');
  assert.match(reply.body.error.message, /berth\.yaml: policy "typo": unknown fact "release\.replicas" \(column 1\)/);
  assert.equal(api.kit.ctx.store.apps.get('typo'), undefined, 'no app, no deployment');
});
