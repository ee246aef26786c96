import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { waitFor } from '../../test/support/http.ts';
import { sseEvents, startApi, type TestApi } from './inject.test-support.ts';

/** POST /v1/apps/:app/run: refusals as JSON before the stream opens; then output lines and one exit. */
let api: TestApi;
before(async () => {
  api = await startApi();
});
after(() => api.close());

const manifest = 'name: app\nhealth:\n  path: /health\n  interval: 100ms\n  healthy_after: 1\n';
const run = (app: string, body: unknown, closeWhen?: (received: string) => boolean) => api.call('POST', `/v1/apps/${app}/run`, { body, ...(closeWhen ? { closeWhen } : {}) });
const runEvents = (app: string) => api.kit.ctx.store.events.forApp(app).filter((e) => e.type.startsWith('run.'));

test('an app without a release is 409 APP_HAS_NO_RELEASE, as JSON, and nothing runs', async () => {
  await api.call('POST', '/v1/apps', { body: { name: 'empty' } });
  const reply = await run('empty', { command: 'node seed.js' });
  assert.equal(reply.status, 409);
  assert.match(reply.headers['content-type'], /^application\/json/);
  assert.equal(reply.body.error.code, 'APP_HAS_NO_RELEASE');
  assert.deepEqual(runEvents('empty'), []);
  const unknown = await run('nope', { command: 'node seed.js' });
  assert.equal(unknown.status, 404);
  assert.equal(unknown.body.error.code, 'APP_NOT_FOUND');
});

test('the command runs in the current release: output lines, then its exit; the trail masks secrets', async () => {
  await api.deploy('alpha', manifest, { version: 'one', oneOff: { 'node seed.js sekrit-token-123': { output: ['seeding', 'token ${API_TOKEN}'], exitCode: 3 } } });
  await api.call('PATCH', '/v1/apps/alpha/env', { body: { set: { API_TOKEN: 'sekrit-token-123' } } });
  await api.kit.deployer.idle('alpha');
  const reply = await run('alpha', { command: 'node seed.js sekrit-token-123' });
  assert.equal(reply.status, 200);
  assert.match(reply.headers['content-type'], /^text\/event-stream/);
  const events = sseEvents(reply.text);
  assert.deepEqual(events.map((e) => e.event), ['output', 'output', 'exit']);
  assert.deepEqual(events[0].data, { stream: 'stdout', line: 'seeding' });
  assert.equal(events[1].data.line, 'token ***', 'the app\'s secret is masked in the output');
  assert.deepEqual(events[2].data, { exitCode: 3, timedOut: false });
  const [started, finished] = runEvents('alpha');
  assert.equal(started.message, 'run: node seed.js ***');
  assert.equal(started.data!.release, 'v2');
  assert.equal(finished.message, 'run exited with code 3: node seed.js ***');
  assert.deepEqual(finished.data, { run: started.data!.run, exitCode: 3, timedOut: false });
});

test('a command of only spaces is 400 REQUEST_INVALID on `command`', async () => {
  const reply = await run('alpha', { command: '   ' });
  assert.equal(reply.status, 400);
  assert.equal(reply.body.error.details.issues[0].path, 'command');
});

test('closing the stream stops the command; the trail says the client went away', async () => {
  await api.deploy('beta', manifest, { version: 'one', oneOff: { 'node long.js': { output: ['started'], delayMs: 60_000 } } });
  const reply = await run('beta', { command: 'node long.js' }, (received) => received.includes('started'));
  assert.equal(sseEvents(reply.text).at(-1)!.event, 'output', 'no exit: the client was gone');
  const finished = await waitFor('the run to be stopped', () => runEvents('beta').find((e) => e.type === 'run.finished'), 5000);
  assert.equal(finished.message, 'run stopped (the client went away): node long.js');
  assert.equal(finished.data!.exitCode, null);
});

test('a run that cannot start ends with an exit saying why, server paths shown as DATA', async () => {
  // The release's artifact is not in the runtime: the driver refuses the run, naming it by its path.
  const release = api.kit.ctx.store.releases.get(api.kit.ctx.store.apps.get('beta')!.currentRelease!)!;
  api.kit.ctx.store.db.run('UPDATE builds SET artifact = ? WHERE id = ?', `${api.kit.dir}/builds/gone`, release.buildId);
  const reply = await run('beta', { command: 'node other.js' });
  const exit = sseEvents(reply.text).at(-1)!;
  assert.equal(exit.event, 'exit');
  assert.deepEqual(exit.data, { exitCode: null, timedOut: false, error: 'the new release did not start: artifact DATA/builds/gone does not exist' });
  const { events } = (await api.call('GET', '/v1/apps/beta/events')).body;
  const finished = events.filter((e: { type: string }) => e.type === 'run.finished').at(-1);
  assert.equal(finished.message, 'run stopped (the new release did not start: artifact DATA/builds/gone does not exist): node other.js');
  assert.equal(finished.data.error, 'the new release did not start: artifact DATA/builds/gone does not exist');
});
