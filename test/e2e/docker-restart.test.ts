import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { appCopy, dockerResources, TestBerth } from '../support/berth.ts';
import { dockerSuite } from '../support/docker.ts';
import { ensureNodeImage } from '../support/docker-images.ts';
import { waitFor } from '../support/http.ts';
import { failures, startLoad } from '../support/load.ts';

/**
 * Restart safety on containers: the daemon killed during a build or a health check comes back to a
 * consistent state; running containers are adopted by their labels, and what belonged to the
 * interrupted deploy is removed. Skips visibly without an engine; fails in CI.
 */
const docker = await dockerSuite();
let berth: TestBerth;
before(async () => {
  if (docker.skip) return;
  berth = await TestBerth.start({ runtime: 'docker', args: ['--node-image', await ensureNodeImage()] });
});
after(async () => {
  await berth?.close();
});

const manifest = (extra = '') => `name: sturdy
health:
  path: /health
  interval: 200ms
${extra}`;

describe('docker runtime restart safety', { skip: docker.skip }, () => {
  test('SIGKILL during a build and during a health check: interrupted, cleaned up, the old release serving throughout', { timeout: 240_000 }, async () => {
    await berth.deploy('sturdy', appCopy('versioned', { 'berth.yaml': manifest() }));
    const load = startLoad({ port: berth.httpPort, host: 'sturdy.localhost', concurrency: 4, maxDurationMs: 180_000 });
    const containersOf = async (predicate: (labels: Record<string, string>) => boolean) =>
      (await dockerResources(berth.ownerId())).containers.filter((c) => predicate(c.Labels));

    // 1. While the image builds.
    const slow = appCopy('versioned', {
      'berth.yaml': manifest(),
      'package.json': JSON.stringify({ name: 'sturdy', type: 'module', scripts: { build: 'echo slow build && sleep 30', start: 'node server.js' } }),
    });
    let reply = await berth.upload('sturdy', slow);
    const building = reply.body.deployment.id;
    await waitFor('the build to run', async () => (await berth.api('GET', `/v1/deployments/${building}`)).body.state === 'building', 30_000, 100);
    await new Promise((r) => setTimeout(r, 1500));
    await berth.kill('SIGKILL');
    await berth.startDaemon();
    assert.equal((await berth.api('GET', `/v1/deployments/${building}`)).body.state, 'interrupted');

    // 2. While a new instance is in its health gate.
    reply = await berth.upload('sturdy', appCopy('versioned', { 'berth.yaml': manifest('  deadline: 60s\nenv:\n  NEVER_HEALTHY: "1"\n') }));
    const verifying = reply.body.deployment.id;
    await waitFor('the health gate', async () => (await berth.api('GET', `/v1/deployments/${verifying}`)).body.state === 'verifying', 60_000, 100);
    await berth.kill('SIGKILL');
    await berth.startDaemon();
    assert.equal((await berth.api('GET', `/v1/deployments/${verifying}`)).body.state, 'interrupted');

    // The serving container was adopted; the interrupted deploy's container is gone.
    const app = (await berth.api('GET', '/v1/apps/sturdy')).body;
    assert.equal(app.release.name, 'v1');
    assert.deepEqual(app.instances.map((i: { run: string }) => i.run), ['running']);
    const instances = await containersOf((labels) => labels['berth.kind'] === 'instance');
    assert.deepEqual(instances.map((c) => c.Labels['berth.instance']), app.instances.map((i: { id: string }) => i.id));

    // And it still deploys.
    await berth.deploy('sturdy', appCopy('versioned', { 'berth.yaml': manifest() }));
    const samples = await load.stop();
    assert.ok(samples.length > 100, `the load ran (${samples.length} requests)`);
    assert.deepEqual(failures(samples).slice(0, 5), [], `${failures(samples).length} of ${samples.length} requests failed while the daemon died twice`);
  });
});
