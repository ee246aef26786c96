import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { appCopy, TestBerth } from '../support/berth.ts';
import { failures, startLoad } from '../support/load.ts';

/** A bad release never takes traffic: the previous one serves throughout, with 0 failed requests. */
let berth: TestBerth;
before(async () => {
  berth = await TestBerth.start();
});
after(async () => {
  await berth?.close();
});

const base = `name: sturdy
health:
  path: /health
  interval: 200ms
  healthy_after: 2
  deadline: 3s
`;

test('deploys that fail to build, crash at start or never get healthy fail with the reason while v1 keeps serving', { timeout: 120_000 }, async () => {
  const dir = appCopy('versioned', { 'berth.yaml': base });
  await berth.deploy('sturdy', dir);
  const load = startLoad({ port: berth.httpPort, host: 'sturdy.localhost', concurrency: 4, maxDurationMs: 90_000 });

  const attempt = async (files: Record<string, string>) => {
    const broken = appCopy('versioned', { 'berth.yaml': base, ...files });
    const reply = await berth.upload('sturdy', broken, '?wait=1');
    assert.equal(reply.status, 202, JSON.stringify(reply.body));
    return berth.settle(reply.body.deployment.id, 'finished');
  };

  const buildFails = await attempt({
    'package.json': JSON.stringify({ name: 'versioned', type: 'module', scripts: { build: 'echo compiling the assets && exit 1', start: 'node server.js' } }),
  });
  assert.equal(buildFails.state, 'failed');
  assert.equal(buildFails.error.code, 'BUILD_FAILED');
  assert.match(buildFails.error.message, /npm run build/);
  assert.ok(buildFails.error.logTail.some((l: string) => l.includes('compiling the assets')), JSON.stringify(buildFails.error.logTail));

  const crashes = await attempt({ 'berth.yaml': `${base}env:\n  CRASH_ON_START: "1"\n` });
  assert.equal(crashes.state, 'failed');
  assert.equal(crashes.error.code, 'START_FAILED');
  assert.match(crashes.error.message, /exited with code 7/);
  assert.ok(crashes.error.logTail.some((l: string) => l.includes('crashing on purpose')), JSON.stringify(crashes.error.logTail));

  const unhealthy = await attempt({ 'berth.yaml': `${base}env:\n  NEVER_HEALTHY: "1"\n` });
  assert.equal(unhealthy.state, 'failed');
  assert.equal(unhealthy.error.code, 'HEALTH_CHECK_FAILED');
  assert.match(unhealthy.error.message, /answered 500/);
  assert.ok(unhealthy.error.hint.includes('health'));

  const samples = await load.stop();
  assert.ok(samples.length > 100, `the load ran (${samples.length} requests)`);
  assert.deepEqual(failures(samples).slice(0, 5), [], `${failures(samples).length} of ${samples.length} requests failed`);
  assert.deepEqual([...new Set(samples.map((s) => s.release))], ['v1'], 'only v1 ever answered');

  const app = (await berth.api('GET', '/v1/apps/sturdy')).body;
  assert.equal(app.release.name, 'v1');
  assert.equal(app.status, 'running');
  assert.deepEqual(app.instances.map((i: { release: { name: string } }) => i.release.name), ['v1'], 'failed releases left no instance behind');
  const releases = (await berth.api('GET', '/v1/apps/sturdy/releases')).body.releases;
  assert.deepEqual(
    releases.map((r: { name: string; status: string }) => `${r.name}:${r.status}`),
    ['v3:failed', 'v2:failed', 'v1:ready'], // a failed build never becomes a release
  );
  const owned = berth.ownedProcesses().filter((p) => p.instance);
  assert.deepEqual(owned.map((p) => p.instance).sort(), app.instances.map((i: { id: string }) => i.id).sort(), 'no process of a failed release survives');
});

test('an env change that breaks the app fails its rollout; the change stays saved, marked as not served, and unsetting it recovers', { timeout: 120_000 }, async () => {
  await berth.deploy('fragile', appCopy('versioned', { 'berth.yaml': base.replace('sturdy', 'fragile') }));
  const change = await berth.api('PATCH', '/v1/apps/fragile/env', { set: { CRASH_ON_START: '1' } });
  assert.equal(change.status, 202);
  const failed = await berth.settle(change.body.deployment.id, 'finished');
  assert.equal(failed.state, 'failed');
  assert.equal(failed.error.code, 'START_FAILED');
  assert.match(failed.error.hint, /env change stays saved.*berth env unset fragile NAME/);

  const env = (await berth.api('GET', '/v1/apps/fragile/env')).body;
  assert.equal(env.release, 'v1');
  assert.deepEqual(env.vars.map((v: { name: string; serving: boolean }) => [v.name, v.serving]), [['CRASH_ON_START', false]]);
  const listed = berth.cli(['env', 'list', 'fragile']);
  assert.equal(listed.code, 0, listed.err);
  assert.match(listed.out, /^CRASH_ON_START +.+ +no$/m);
  assert.match(listed.out, /v1 serves an older env/);

  const undo = await berth.api('PATCH', '/v1/apps/fragile/env', { unset: ['CRASH_ON_START'] });
  assert.equal((await berth.settle(undo.body.deployment.id, 'finished')).state, 'succeeded');
  const after = (await berth.api('GET', '/v1/apps/fragile/env')).body;
  assert.deepEqual([after.release, after.vars, after.unsetButServed], ['v3', [], []]);
});
