import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startApi, type TestApi } from './inject.test-support.ts';

/** /v1/apps: create, list, show, destroy. */
let api: TestApi;
before(async () => {
  api = await startApi();
});
after(() => api.close());

const manifest = 'name: app\nhealth:\n  path: /health\n  interval: 100ms\n  healthy_after: 1\n';

test('creating an app is 201 the first time and 200 after, with one app.created event', async () => {
  const first = await api.call('POST', '/v1/apps', { body: { name: 'fresh' } });
  assert.equal(first.status, 201);
  assert.equal(first.body.name, 'fresh');
  assert.equal(first.body.status, 'new');
  assert.equal(first.body.release, null);
  assert.deepEqual(first.body.urls, [`http://fresh.localhost:${api.kit.port}`]);
  const again = await api.call('POST', '/v1/apps', { body: { name: 'fresh' } });
  assert.equal(again.status, 200);
  assert.equal(again.body.createdAt, first.body.createdAt);
  const events = await api.call('GET', '/v1/apps/fresh/events');
  assert.deepEqual(events.body.events.map((e: { type: string }) => e.type), ['app.created']);
});

test('a name that cannot be a hostname label is 400 APP_NAME_INVALID, and nothing is created', async () => {
  for (const name of ['Upper', '1abc', 'ends-', 'x'.repeat(41)]) {
    const reply = await api.call('POST', '/v1/apps', { body: { name } });
    assert.equal(reply.status, 400, name);
    assert.equal(reply.body.error.code, 'APP_NAME_INVALID', name);
    assert.equal(api.kit.ctx.store.apps.get(name), undefined, name);
  }
});

test('an unknown app is 404 APP_NOT_FOUND; an impossible name is 400 before any lookup', async () => {
  const missing = await api.call('GET', '/v1/apps/nope');
  assert.equal(missing.status, 404);
  assert.equal(missing.body.error.code, 'APP_NOT_FOUND');
  const long = await api.call('GET', `/v1/apps/${'a'.repeat(300)}`);
  assert.equal(long.status, 400);
  assert.equal(long.body.error.code, 'APP_NAME_INVALID');
  assert.ok(long.body.error.message.includes(`${'a'.repeat(64)}…`), 'the name is quoted cut short');
});

test('a deployed app shows running, its release and its serving instance; the list has it', async () => {
  const deployed = await api.deploy('app-shown', manifest, { version: 'one' });
  assert.equal(deployed.status, 202);
  const reply = await api.call('GET', '/v1/apps/app-shown');
  assert.equal(reply.status, 200);
  assert.equal(reply.body.status, 'running');
  assert.equal(reply.body.release.name, 'v1');
  assert.equal(reply.body.deploying, null);
  assert.deepEqual(reply.body.instances.map((i: { process: string; state: string; run: string }) => [i.process, i.state, i.run]), [['web', 'serving', 'running']]);
  const list = await api.call('GET', '/v1/apps');
  assert.ok(list.body.apps.some((app: { name: string }) => app.name === 'app-shown'));
});

test('destroying an app stops its instances and forgets it; a second destroy is 404', async () => {
  await api.deploy('app-gone', manifest, { version: 'one' });
  const instances = api.kit.ctx.store.instances.live('app-gone').map((i) => i.id);
  assert.equal(instances.length, 1);
  const reply = await api.call('DELETE', '/v1/apps/app-gone');
  assert.equal(reply.status, 200);
  assert.deepEqual(reply.body, { destroyed: 'app-gone' });
  assert.equal((await api.kit.ctx.driver.inspect(instances[0])).state, 'missing');
  assert.equal((await api.call('GET', '/v1/apps/app-gone')).status, 404);
  const again = await api.call('DELETE', '/v1/apps/app-gone');
  assert.equal(again.status, 404);
  assert.equal(again.body.error.code, 'APP_NOT_FOUND');
});
