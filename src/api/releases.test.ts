import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from '../../test/support/http.ts';
import { startApi, type TestApi } from './inject.test-support.ts';

/** Releases as the API lists them, and which one a rollback picks (or why it refuses). */
let api: TestApi;
before(async () => {
  api = await startApi();
});
after(() => api.close());

const manifest = 'name: app\nhealth:\n  path: /health\n  interval: 100ms\n  healthy_after: 1\n  deadline: 1s\n  timeout: 300ms\ndeploy:\n  drain_timeout: 100ms\n  standby: 1m\n';
const version = async (app: string) => (JSON.parse((await request({ port: api.kit.port, host: `${app}.localhost` })).body) as { version: string }).version;
type Release = { name: string; status: string; current: boolean; rollbackable: boolean };
const releases = async (app: string) => (await api.call('GET', `/v1/apps/${app}/releases`)).body.releases as Release[];

test('releases list newest first; only a ready release that is not serving is rollbackable', async () => {
  await api.deploy('alpha', manifest, { version: 'a1' });
  await api.deploy('alpha', manifest, { version: 'a2' });
  await api.deploy('alpha', manifest, { version: 'broken', health: 'fail' });
  assert.deepEqual(
    (await releases('alpha')).map((r) => [r.name, r.status, r.current, r.rollbackable]),
    [
      ['v3', 'failed', false, false],
      ['v2', 'ready', true, false],
      ['v1', 'ready', false, true],
    ],
  );
});

test('a rollback without a release goes back to the newest ready one older than the current', async () => {
  const reply = await api.call('POST', '/v1/apps/alpha/rollback');
  assert.equal(reply.status, 202);
  assert.equal(reply.body.deployment.kind, 'rollback');
  assert.equal(reply.body.deployment.release.name, 'v1', 'the target is known at once');
  await api.kit.deployer.idle('alpha');
  assert.equal(await version('alpha'), 'a1');
  const now = await releases('alpha');
  assert.deepEqual(now.filter((r) => r.current).map((r) => r.name), ['v1']);
  assert.equal(now.find((r) => r.name === 'v2')!.rollbackable, true);
  const queued = (await api.call('GET', '/v1/apps/alpha/events')).body.events.filter((e: { type: string }) => e.type === 'deploy.queued').at(-1);
  assert.equal(queued.message, 'rollback to v1');
});

test('a rollback to a named release: v2, 1 or its id', async () => {
  const v2 = (await api.call('GET', '/v1/apps/alpha/releases')).body.releases.find((r: { name: string }) => r.name === 'v2');
  for (const ref of ['v2', '1', v2.id]) {
    const reply = await api.call('POST', '/v1/apps/alpha/rollback', { body: { release: ref } });
    assert.equal(reply.status, 202, ref);
    await api.kit.deployer.idle('alpha');
  }
  assert.equal(await version('alpha'), 'a2');
});

test('refusals: unknown release 404, the serving one or one that never went live 409, each saying why', async () => {
  const missing = await api.call('POST', '/v1/apps/alpha/rollback', { body: { release: 'v9' } });
  assert.equal(missing.status, 404);
  assert.equal(missing.body.error.code, 'RELEASE_NOT_FOUND');
  const serving = await api.call('POST', '/v1/apps/alpha/rollback', { body: { release: 'v2' } });
  assert.equal(serving.status, 409);
  assert.equal(serving.body.error.code, 'RELEASE_NOT_ROLLBACKABLE');
  assert.match(serving.body.error.message, /serving now/);
  const failed = await api.call('POST', '/v1/apps/alpha/rollback', { body: { release: 'v3' } });
  assert.equal(failed.status, 409);
  assert.match(failed.body.error.message, /never went live/);
  assert.equal(await version('alpha'), 'a2', 'nothing changed');
});

test('an app with one release has nothing to go back to; one without any is 409 APP_HAS_NO_RELEASE; an unknown one 404', async () => {
  await api.deploy('single', manifest, { version: 's1' });
  const single = await api.call('POST', '/v1/apps/single/rollback');
  assert.equal(single.status, 409);
  assert.match(single.body.error.message, /no release older than v1/);
  await api.call('POST', '/v1/apps', { body: { name: 'empty' } });
  const empty = await api.call('POST', '/v1/apps/empty/rollback');
  assert.equal(empty.status, 409);
  assert.equal(empty.body.error.code, 'APP_HAS_NO_RELEASE');
  assert.equal((await api.call('GET', '/v1/apps/empty/releases')).body.releases.length, 0);
  const unknown = await api.call('POST', '/v1/apps/nope/rollback');
  assert.equal(unknown.status, 404);
  assert.equal(unknown.body.error.code, 'APP_NOT_FOUND');
});

test('a release whose build is gone is neither rollbackable nor rolled back to', async () => {
  await api.deploy('pruned', manifest, { version: 'p1' });
  await api.deploy('pruned', manifest, { version: 'p2' });
  const v1 = api.kit.ctx.store.releases.listByApp('pruned').find((r) => r.version === 1)!;
  api.kit.ctx.store.db.run('UPDATE builds SET removed_at = ? WHERE id = ?', Date.now(), v1.buildId);
  assert.equal((await releases('pruned')).find((r) => r.name === 'v1')!.rollbackable, false);
  const reply = await api.call('POST', '/v1/apps/pruned/rollback', { body: { release: 'v1' } });
  assert.equal(reply.status, 409);
  assert.match(reply.body.error.message, /no longer on disk/);
});
