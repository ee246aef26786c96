import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startApi, type TestApi } from './inject.test-support.ts';

/** POST /v1/apps/:app/scale: replicas saved, then rolled out through the deploy runbook. */
let api: TestApi;
before(async () => {
  api = await startApi();
});
after(() => api.close());

const manifest = 'name: app\nhealth:\n  path: /health\n  interval: 100ms\n  healthy_after: 1\ndeploy:\n  drain_timeout: 100ms\nprocesses:\n  web: {}\n  worker: node worker.js\n';
const scale = (app: string, body: unknown) => api.call('POST', `/v1/apps/${app}/scale`, { body });
const serving = (app: string) =>
  api.kit.ctx.store.instances
    .live(app)
    .filter((i) => i.state === 'serving')
    .map((i) => `${i.process}.${i.ordinal}`)
    .sort();

test('scaling rolls out a release with the new counts, and they stay for later deploys', async () => {
  await api.deploy('alpha', manifest, { version: 'one' });
  assert.deepEqual(serving('alpha'), ['web.0', 'worker.0']);
  const reply = await scale('alpha', { processes: { web: 2 } });
  assert.equal(reply.status, 202);
  assert.deepEqual(reply.body.formation, { web: 2 });
  assert.equal(reply.body.deployment.kind, 'scale');
  await api.kit.deployer.idle('alpha');
  assert.deepEqual(serving('alpha'), ['web.0', 'web.1', 'worker.0']);

  const more = await scale('alpha', { processes: { worker: 0 } });
  assert.deepEqual(more.body.formation, { web: 2, worker: 0 }, 'merged with the counts set before');
  await api.kit.deployer.idle('alpha');
  assert.deepEqual(serving('alpha'), ['web.0', 'web.1']);
  await api.deploy('alpha', manifest, { version: 'two' });
  assert.deepEqual(serving('alpha'), ['web.0', 'web.1'], 'a deploy keeps them');
  const scaled = api.kit.ctx.store.events.forApp('alpha').filter((e) => e.type === 'app.scaled').map((e) => e.message);
  assert.deepEqual(scaled, ['scale: web=2', 'scale: worker=0']);
});

test('reset forgets the counts set with scale: its own rollout and the next deploy run berth.yaml\'s', async () => {
  const reply = await scale('alpha', { reset: true });
  assert.equal(reply.status, 202);
  assert.deepEqual(reply.body.formation, {});
  assert.equal(reply.body.deployment.kind, 'scale');
  await api.kit.deployer.idle('alpha');
  assert.deepEqual(api.kit.ctx.store.apps.get('alpha')!.formation, {});
  assert.deepEqual(serving('alpha'), ['web.0', 'worker.0'], 'the reset rollout itself goes back to berth.yaml');
  await api.deploy('alpha', manifest, { version: 'three' });
  assert.deepEqual(serving('alpha'), ['web.0', 'worker.0']);
  assert.equal(api.kit.ctx.store.events.forApp('alpha').filter((e) => e.type === 'app.scaled').at(-1)!.message, 'scale: back to berth.yaml');
});

test('refusals: the request, the release\'s processes, the bounds', async () => {
  const cases: [body: unknown, path: string, message: RegExp][] = [
    [{ processes: { web: 2 }, reset: true }, 'reset', /cannot be sent with processes/],
    [{}, 'processes', /is required/],
    [{ processes: { wbe: 2 } }, 'processes.wbe', /no process "wbe"/],
    [{ processes: { toString: 1 } }, 'processes.toString', /no process "toString"/],
    [{ processes: { web: 0 } }, 'processes.web', /from 1 to 20/],
    [{ processes: {} }, 'processes', /nothing to scale/],
  ];
  for (const [body, path, message] of cases) {
    const reply = await scale('alpha', body);
    assert.equal(reply.status, 400, JSON.stringify(body));
    assert.equal(reply.body.error.code, 'REQUEST_INVALID', JSON.stringify(body));
    const [issue] = reply.body.error.details.issues;
    assert.equal(issue.path, path, JSON.stringify(body));
    assert.match(issue.message, message);
  }
  const typo = await scale('alpha', { processes: { wbe: 2 } });
  assert.match(typo.body.error.details.issues[0].fix, /did you mean "web"/);
  assert.deepEqual(api.kit.ctx.store.apps.get('alpha')!.formation, {}, 'nothing was saved');
});

test('an app without a release is 409 APP_HAS_NO_RELEASE; an unknown one 404', async () => {
  await api.call('POST', '/v1/apps', { body: { name: 'empty' } });
  const empty = await scale('empty', { processes: { web: 2 } });
  assert.equal(empty.status, 409);
  assert.equal(empty.body.error.code, 'APP_HAS_NO_RELEASE');
  assert.equal((await scale('nope', { processes: { web: 2 } })).status, 404);
});
