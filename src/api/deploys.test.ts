import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { waitFor } from '../../test/support/http.ts';
import { appArchive, sseEvents, startApi, type TestApi } from './inject.test-support.ts';

/** The upload endpoint and what reads deployments back: the list, one, its event stream, the app's events. */
let api: TestApi;
before(async () => {
  api = await startApi();
});
after(() => api.close());

const manifest = (extra = '') => `name: app\nhealth:\n  path: /health\n  interval: 100ms\n  healthy_after: 1\ndeploy:\n  drain_timeout: 100ms\n${extra}`;
const upload = (app: string, body: Buffer, query = '', headers: Record<string, string> = {}) =>
  api.call('POST', `/v1/apps/${app}/deploys${query}`, { body, headers: { 'content-type': 'application/gzip', ...headers } });
const uploadsLeft = () => readdirSync(api.kit.ctx.settings.uploadsDir).filter((name) => name.startsWith('upl_') && !/^upl_\d+$/.test(name));

describe('upload', () => {
  test('a folder is 202 with the queued deployment; it builds, goes live, and the app is created', async () => {
    const reply = await upload('alpha', appArchive(manifest(), { version: 'one' }), '', { 'x-berth-description': 'first', 'x-berth-git-sha': 'abc1234' });
    assert.equal(reply.status, 202);
    const { deployment } = reply.body;
    assert.equal(deployment.app, 'alpha');
    assert.equal(deployment.kind, 'deploy');
    assert.equal(deployment.state, 'queued');
    assert.equal(deployment.release, null);
    await api.kit.deployer.idle('alpha');
    const done = await api.call('GET', `/v1/deployments/${deployment.id}`);
    assert.equal(done.status, 200);
    assert.ok(['draining', 'succeeded'].includes(done.body.state), done.body.state);
    assert.equal(done.body.release.name, 'v1');
    const releases = await api.call('GET', '/v1/apps/alpha/releases');
    assert.equal(releases.body.releases[0].description, 'first');
    assert.equal(releases.body.releases[0].gitSha, 'abc1234');
  });

  test('a git sha that does not look like one is ignored', async () => {
    await upload('alpha', appArchive(manifest(), { version: 'two' }), '?wait=1', { 'x-berth-git-sha': 'not a sha; rm -rf /' });
    await api.kit.deployer.idle('alpha');
    const releases = await api.call('GET', '/v1/apps/alpha/releases');
    assert.equal(releases.body.releases[0].gitSha, null);
    assert.equal(releases.body.releases[0].description, 'deploy');
  });

  test('a body that is no gzip is 400 BODY_INVALID, and nothing is recorded', async () => {
    const reply = await upload('never', appArchive(manifest()), '', { 'content-type': 'application/json' });
    assert.equal(reply.status, 400);
    assert.equal(reply.body.error.code, 'BODY_INVALID');
    assert.equal(api.kit.ctx.store.apps.get('never'), undefined);
  });

  test('an invalid berth.yaml is 422 MANIFEST_INVALID naming berth.yaml; no app, no deployment, no files', async () => {
    const reply = await upload('never', appArchive('name: app\nhealth:\n  interval: 5\n'));
    assert.equal(reply.status, 422);
    assert.equal(reply.body.error.code, 'MANIFEST_INVALID');
    assert.match(reply.body.error.message, /^berth\.yaml is not valid/);
    assert.equal(api.kit.ctx.store.apps.get('never'), undefined);
    assert.deepEqual(uploadsLeft(), []);
  });

  test('a hostname another app serves is 409 DOMAIN_TAKEN before anything is recorded', async () => {
    await api.deploy('owner', manifest('domains: [taken.test]\n'), { version: 'o' });
    const reply = await upload('thief', appArchive(manifest('domains: [taken.test]\n')));
    assert.equal(reply.status, 409);
    assert.equal(reply.body.error.code, 'DOMAIN_TAKEN');
    assert.equal(api.kit.ctx.store.apps.get('thief'), undefined);
    assert.deepEqual(uploadsLeft(), []);
  });

  test('while a deploy runs, another is 409 DEPLOY_IN_PROGRESS; with wait=1 it queues behind', async () => {
    const slow = await upload('busy', appArchive(manifest(), { version: 'slow', buildDelayMs: 300 }));
    assert.equal(slow.status, 202);
    const refused = await upload('busy', appArchive(manifest(), { version: 'next' }));
    assert.equal(refused.status, 409);
    assert.equal(refused.body.error.code, 'DEPLOY_IN_PROGRESS');
    assert.ok(refused.body.error.message.includes(slow.body.deployment.id), refused.body.error.message);
    const queued = await upload('busy', appArchive(manifest(), { version: 'next' }), '?wait=1');
    assert.equal(queued.status, 202);
    await api.kit.deployer.idle('busy');
    const list = await api.call('GET', '/v1/apps/busy/deployments');
    assert.deepEqual(list.body.deployments.map((d: { id: string }) => d.id), [queued.body.deployment.id, slow.body.deployment.id], 'newest first');
    assert.equal(list.body.deployments[0].release.name, 'v2');
  });

  test('an impossible app name is refused before the body is read', async () => {
    const reply = await upload('Bad_Name', appArchive(manifest()));
    assert.equal(reply.status, 400);
    assert.equal(reply.body.error.code, 'APP_NAME_INVALID');
  });
});

describe('reading deployments', () => {
  test('the event stream replays a finished deployment to its end, each event with its seq as id', async () => {
    const reply = await api.deploy('beta', manifest(), { version: 'b' });
    const id = reply.body.deployment.id;
    await waitFor('the deployment to succeed', () => api.kit.ctx.store.deployments.get(id)!.state === 'succeeded', 5000);
    const stream = await api.call('GET', `/v1/deployments/${id}/events`);
    assert.equal(stream.status, 200);
    assert.match(stream.headers['content-type'], /^text\/event-stream/);
    const events = sseEvents(stream.text);
    assert.equal(events[0].event, 'deploy.queued');
    assert.equal(events.at(-1)!.event, 'deploy.succeeded');
    assert.ok(events.some((e) => e.event === 'deploy.switched' && e.data.data.version === 1));
    for (const e of events) assert.equal(e.id, e.data.seq);
    const rest = await api.call('GET', `/v1/deployments/${id}/events?after=${events.at(-2)!.id}`);
    assert.deepEqual(sseEvents(rest.text).map((e) => e.event), ['deploy.succeeded'], 'only events after `after`');
  });

  test('the event stream of a running deployment follows it live until it ends', async () => {
    const reply = await upload('gamma', appArchive(manifest(), { version: 'g', buildDelayMs: 200 }));
    const id = reply.body.deployment.id;
    assert.ok(['queued', 'building'].includes(api.kit.ctx.store.deployments.get(id)!.state), 'still building when the stream opens');
    const stream = await api.call('GET', `/v1/deployments/${id}/events`);
    const types = sseEvents(stream.text).map((e) => e.event);
    assert.equal(types[0], 'deploy.queued');
    assert.equal(types.at(-1), 'deploy.succeeded');
    assert.ok(types.includes('deploy.switched'));
  });

  test('an unknown deployment is 404 DEPLOYMENT_NOT_FOUND, its id quoted cut short', async () => {
    const reply = await api.call('GET', `/v1/deployments/dep_${'x'.repeat(200)}`);
    assert.equal(reply.status, 404);
    assert.equal(reply.body.error.code, 'DEPLOYMENT_NOT_FOUND');
    assert.ok(!reply.body.error.message.includes('x'.repeat(100)));
    assert.equal((await api.call('GET', '/v1/deployments/dep_nope/events')).status, 404);
  });

  test('the app\'s events come oldest first, as many as asked; an unknown app is 404', async () => {
    const all = await api.call('GET', '/v1/apps/beta/events');
    assert.equal(all.body.events[0].type, 'app.created');
    const two = await api.call('GET', '/v1/apps/beta/events?limit=2');
    assert.deepEqual(two.body.events, all.body.events.slice(-2));
    assert.equal((await api.call('GET', '/v1/apps/nope/events')).status, 404);
    assert.equal((await api.call('GET', '/v1/apps/nope/deployments')).status, 404);
  });
});
