import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from '../../test/support/http.ts';
import { startApi, type TestApi } from './inject.test-support.ts';

/** /v1/apps/:app/env: names out, values only when asked; a change is saved, then rolled out as a release. */
let api: TestApi;
before(async () => {
  api = await startApi();
});
after(() => api.close());

const manifest = 'name: app\nhealth:\n  path: /health\n  interval: 100ms\n  healthy_after: 1\ndeploy:\n  drain_timeout: 100ms\n';
const served = async (app: string) => (JSON.parse((await request({ port: api.kit.port, host: `${app}.localhost` })).body) as { env: Record<string, string> }).env;
const patch = (app: string, body: unknown) => api.call('PATCH', `/v1/apps/${app}/env`, { body });
type EnvVar = { name: string; serving: boolean; value?: string };

test('an app that never deployed only saves the change: no deployment', async () => {
  await api.call('POST', '/v1/apps', { body: { name: 'quiet' } });
  const reply = await patch('quiet', { set: { API_KEY: 'k1' } });
  assert.equal(reply.status, 202);
  assert.deepEqual(reply.body, { changed: ['API_KEY'], deployment: null });
  const env = await api.call('GET', '/v1/apps/quiet/env');
  assert.deepEqual(env.body.release, null);
  assert.deepEqual(env.body.vars.map((v: EnvVar) => [v.name, v.serving, v.value]), [['API_KEY', false, undefined]]);
});

test('a change to a deployed app rolls out a new release that runs with it', async () => {
  await api.deploy('live', manifest, { version: 'one' });
  const reply = await patch('live', { set: { GREETING: 'hello', OTHER: 'x' } });
  assert.equal(reply.status, 202);
  assert.deepEqual(reply.body.changed, ['GREETING', 'OTHER']);
  assert.equal(reply.body.deployment.kind, 'env');
  await api.kit.deployer.idle('live');
  const deployment = await api.call('GET', `/v1/deployments/${reply.body.deployment.id}`);
  assert.equal(deployment.body.release.name, 'v2');
  assert.equal((await served('live')).GREETING, 'hello');
  const queued = api.kit.ctx.store.events.forDeployment(reply.body.deployment.id)[0];
  assert.equal(queued.message, 'env: set GREETING, OTHER', 'the description says its kind once');
  const changed = api.kit.ctx.store.events.forApp('live').find((e) => e.type === 'env.changed')!;
  assert.deepEqual(changed.data, { names: ['GREETING', 'OTHER'] }, 'events carry names, never values');
});

test('values leave the server only with reveal=1; unsetting shows what the serving release still has', async () => {
  const hidden = await api.call('GET', '/v1/apps/live/env');
  assert.deepEqual(hidden.body.vars.map((v: EnvVar) => [v.name, v.serving, v.value]), [['GREETING', true, undefined], ['OTHER', true, undefined]]);
  const shown = await api.call('GET', '/v1/apps/live/env?reveal=1');
  assert.deepEqual(shown.body.vars.map((v: EnvVar) => v.value), ['hello', 'x']);

  api.kit.ctx.store.transaction(() => api.kit.ctx.store.env.unset('live', 'OTHER'));
  const drift = await api.call('GET', '/v1/apps/live/env');
  assert.equal(drift.body.release, 'v2');
  assert.deepEqual(drift.body.unsetButServed, ['OTHER']);
});

test('unsetting a name that is not set changes nothing and rolls out nothing', async () => {
  const reply = await patch('live', { unset: ['NEVER_SET', 'NEVER_SET'] });
  assert.equal(reply.status, 202);
  assert.deepEqual(reply.body, { changed: [], deployment: null });
});

test('refusals name the problem and change nothing', async () => {
  const before = api.kit.ctx.store.env.list('live').map((v) => v.name);
  const cases: [body: unknown, status: number, code: string, path?: string][] = [
    [{ set: { PORT: '1' } }, 400, 'ENV_NAME_RESERVED'],
    [{ set: { BERTH_X: '1' } }, 400, 'ENV_NAME_RESERVED'],
    [{ set: { '1BAD': '1' } }, 400, 'ENV_NAME_INVALID'],
    [{ set: { GOOD: 'ok', NUL: 'a\u0000b' } }, 400, 'ENV_VALUE_INVALID'],
    [{ set: { BOTH: '1' }, unset: ['BOTH'] }, 400, 'REQUEST_INVALID', 'unset'],
    [{}, 400, 'REQUEST_INVALID', '(body)'],
    [{ set: { A: 1 } }, 400, 'REQUEST_INVALID', 'set.A'],
  ];
  for (const [body, status, code, path] of cases) {
    const reply = await patch('live', body);
    assert.equal(reply.status, status, JSON.stringify(body));
    assert.equal(reply.body.error.code, code, JSON.stringify(body));
    if (path) assert.equal(reply.body.error.details.issues[0].path, path, JSON.stringify(body));
  }
  assert.ok(!JSON.stringify((await patch('live', { set: { GOOD: 'ok', NUL: 'secret\u0000' } })).body).includes('secret'), 'the value is never quoted');
  assert.deepEqual(api.kit.ctx.store.env.list('live').map((v) => v.name), before);
  const missing = await patch('nope', { set: { A: '1' } });
  assert.equal(missing.status, 404);
  assert.equal(missing.body.error.code, 'APP_NOT_FOUND');
});
