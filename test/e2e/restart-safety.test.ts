import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { request, waitFor } from '../support/http.ts';
import { appCopy, TestBerth } from '../support/berth.ts';
import { failures, startLoad } from '../support/load.ts';

/**
 * The control plane may die at any moment (SIGKILL) or be restarted on purpose: app traffic never
 * notices, and the next start finds a consistent state with nothing orphaned.
 */
let berth: TestBerth;
before(async () => {
  berth = await TestBerth.start();
});
after(async () => {
  await berth?.close();
});

const manifest = (extra = '') => `name: steady
health:
  path: /health
  interval: 200ms
  healthy_after: 2
deploy:
  drain_timeout: 10s
${extra}`;

/** Processes carrying this berth's marker must be exactly the proxy and the instances the store wants. */
async function assertNoOrphans(note: string): Promise<void> {
  const apps = (await berth.api('GET', '/v1/apps')).body.apps as { instances: { id: string; state: string }[] }[];
  const wanted = new Set(apps.flatMap((a) => a.instances.filter((i) => i.state !== 'stopping').map((i) => i.id)));
  await waitFor(
    `owned processes to match the store (${note})`,
    () => {
      const owned = berth.ownedProcesses();
      const instances = new Set(owned.filter((p) => p.instance).map((p) => p.instance!));
      const builds = owned.filter((p) => p.build);
      return builds.length === 0 && instances.size === wanted.size && [...wanted].every((id) => instances.has(id));
    },
    15_000,
    100,
  );
  const uploads = join(berth.dataDir, 'uploads');
  assert.deepEqual(existsSync(uploads) ? readdirSync(uploads) : [], [], `no half-received upload is left (${note})`);
  const builds = join(berth.dataDir, 'runtime', 'process', 'builds');
  assert.deepEqual(readdirSync(builds).filter((n) => n.includes('partial')), [], `no half-written build is left (${note})`);
}

test('SIGKILL of the daemon during a build, a health check and a drain: consistent state, a release serving, no orphans', { timeout: 180_000 }, async () => {
  await berth.deploy('steady', appCopy('versioned', { 'berth.yaml': manifest() }));
  const load = startLoad({ port: berth.httpPort, host: 'steady.localhost', concurrency: 4, maxDurationMs: 150_000 });

  // 1. Killed while building (a build step that takes a long time).
  const slowBuild = appCopy('versioned', {
    'berth.yaml': manifest(),
    'package.json': JSON.stringify({ name: 'versioned', type: 'module', scripts: { build: 'echo building slowly && sleep 60', start: 'node server.js' } }),
  });
  let reply = await berth.upload('steady', slowBuild);
  assert.equal(reply.status, 202);
  const building = reply.body.deployment.id;
  // The slow step itself, not the install before it: a kill between two steps leaves no build running.
  const sleeping = () => berth.ownedProcesses().some((p) => p.build && readFileSync(`/proc/${p.pid}/cmdline`, 'utf8').includes('sleep'));
  await waitFor('the slow build step to run', sleeping, 15_000, 50);
  await berth.kill('SIGKILL');
  assert.ok(berth.ownedProcesses().some((p) => p.build), 'the build outlived the daemon, as it would');
  await berth.startDaemon();
  let d = (await berth.api('GET', `/v1/deployments/${building}`)).body;
  assert.equal(d.state, 'interrupted');
  assert.equal(d.error.code, 'DEPLOY_INTERRUPTED');
  assert.match(d.error.message, /while building/);
  await assertNoOrphans('after a kill during the build');
  assert.equal((await berth.api('GET', '/v1/apps/steady')).body.release.name, 'v1');

  // 2. Killed while the health gate waits on a new instance that never gets healthy.
  reply = await berth.upload('steady', appCopy('versioned', { 'berth.yaml': manifest('env:\n  NEVER_HEALTHY: "1"\n') }));
  const verifying = reply.body.deployment.id;
  await waitFor('the health gate', async () => (await berth.api('GET', `/v1/deployments/${verifying}`)).body.state === 'verifying', 15_000, 50);
  await berth.kill('SIGKILL');
  await berth.startDaemon();
  d = (await berth.api('GET', `/v1/deployments/${verifying}`)).body;
  assert.equal(d.state, 'interrupted');
  await assertNoOrphans('after a kill during the health gate');
  const releases = (await berth.api('GET', '/v1/apps/steady/releases')).body.releases;
  assert.equal(releases.find((r: { name: string }) => r.name === 'v2').status, 'failed', 'the interrupted release is never taken for a good one');

  // 3. Killed right after a switch, while the old release drains: the new release serves, the drain completes.
  // A slow request on the old release keeps its drain open long enough to be caught in it.
  const slowRequest = request({ port: berth.httpPort, host: 'steady.localhost', path: '/?delay=6000', timeoutMs: 30_000 }).catch((error: Error) => ({ status: 0, body: error.message }));
  reply = await berth.upload('steady', appCopy('versioned', { 'berth.yaml': manifest() }));
  assert.equal(reply.status, 202, JSON.stringify(reply.body));
  const draining = reply.body.deployment.id;
  const caught = await waitFor(
    'the switch',
    async () => {
      const state = (await berth.api('GET', `/v1/deployments/${draining}`)).body;
      return ['draining', 'succeeded', 'failed', 'interrupted'].includes(state.state) ? state : undefined;
    },
    60_000,
    20,
  );
  assert.equal(caught.state, 'draining', `caught the deployment ${caught.state}: ${JSON.stringify(caught.error)}\n${berth.daemonLog.slice(-2000)}`);
  await berth.kill('SIGKILL');
  await berth.startDaemon();
  d = await berth.settle(draining, 'finished', 30_000);
  assert.equal(d.state, 'succeeded');
  assert.equal((await berth.api('GET', '/v1/apps/steady')).body.release.name, 'v3');
  assert.equal((await slowRequest).status, 200, 'the request in flight on the old release finished');
  await assertNoOrphans('after a kill during the drain');

  // And the daemon still deploys afterwards.
  await berth.deploy('steady', appCopy('versioned', { 'berth.yaml': manifest() }));
  const samples = await load.stop();
  assert.ok(samples.length > 100, `the load ran (${samples.length} requests)`);
  assert.deepEqual(failures(samples).slice(0, 5), [], `${failures(samples).length} of ${samples.length} requests failed while the daemon died three times`);
});

test('restarting the control plane under load (graceful and SIGKILL) fails no app request', { timeout: 120_000 }, async () => {
  await berth.deploy('calm', appCopy('versioned', { 'berth.yaml': manifest().replace('steady', 'calm') }));
  const load = startLoad({ port: berth.httpPort, host: 'calm.localhost', concurrency: 6, maxDurationMs: 90_000 });
  await new Promise((r) => setTimeout(r, 500));
  const proxyBefore = berth.ownedProcesses().find((p) => !p.instance && !p.build)!.pid;
  for (const signal of ['SIGTERM', 'SIGKILL', 'SIGTERM'] as const) {
    await berth.kill(signal);
    await new Promise((r) => setTimeout(r, 500)); // traffic keeps flowing with no control plane at all
    await berth.startDaemon();
    await new Promise((r) => setTimeout(r, 300));
  }
  const proxyAfter = berth.ownedProcesses().find((p) => !p.instance && !p.build)!.pid;
  assert.equal(proxyAfter, proxyBefore, 'the same proxy process served throughout');
  const samples = await load.stop();
  assert.ok(samples.length > 200, `the load ran (${samples.length} requests)`);
  assert.deepEqual(failures(samples).slice(0, 5), [], `${failures(samples).length} of ${samples.length} requests failed`);
  await assertNoOrphans('after three control-plane restarts');
});

test('a proxy that dies is started again by the daemon, with its routes', { timeout: 60_000 }, async () => {
  await berth.deploy('phoenix', appCopy('versioned', { 'berth.yaml': manifest().replace('steady', 'phoenix') }));
  const proxy = berth.ownedProcesses().find((p) => !p.instance && !p.build)!;
  process.kill(proxy.pid, 'SIGKILL');
  const reply = await waitFor(
    'the app to answer through a new proxy',
    async () => {
      const r = await request({ port: berth.httpPort, host: 'phoenix.localhost', timeoutMs: 1000 }).catch(() => undefined);
      return r?.status === 200 ? r : undefined;
    },
    20_000,
    200,
  );
  assert.equal(JSON.parse(reply.body).release, 'v1');
  const replacement = berth.ownedProcesses().find((p) => !p.instance && !p.build)!;
  assert.notEqual(replacement.pid, proxy.pid);
  await assertNoOrphans('after the proxy was replaced');
});
