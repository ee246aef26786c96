import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { request, waitFor } from '../support/http.ts';
import { appCopy, dockerResources, TestBerth } from '../support/berth.ts';
import { dockerSuite } from '../support/docker.ts';
import { ensureNodeImage, ensureRedisImage } from '../support/docker-images.ts';

/**
 * `berth down` on the docker runtime stops every container berth owns, the app's services (Redis)
 * included, and keeps their volumes; the next `berth server` brings the services and the app back.
 * Skips visibly without an engine; fails in CI (BERTH_REQUIRE_DOCKER=1).
 */
const docker = await dockerSuite();
let berth: TestBerth;
let redisImage = '';
before(async () => {
  if (docker.skip) return;
  redisImage = await ensureRedisImage();
  berth = await TestBerth.start({ runtime: 'docker', args: ['--node-image', await ensureNodeImage()] });
});
after(async () => {
  await berth?.close();
});

const manifest = (redis: string) => `name: keeper
health:
  path: /health
  interval: 200ms
processes:
  web:
    depends_on: [cache]
services:
  cache:
    image: ${redis}
    volumes:
      data: /data
    health:
      command: redis-cli ping
      interval: 500ms
`;

test('berth down stops the app and its Redis service (volumes kept); the next start brings both back', { skip: docker.skip, timeout: 240_000 }, async () => {
  await berth.deploy('keeper', appCopy('versioned', { 'berth.yaml': manifest(redisImage) }));
  const owner = berth.ownerId();
  const before = await dockerResources(owner);
  const running = (list: typeof before.containers) => list.filter((c) => c.State === 'running').map((c) => `${c.Labels['berth.kind']}:${c.Labels['berth.process'] ?? c.Labels['berth.service']}`).sort();
  assert.deepEqual(running(before.containers), ['instance:web', 'service:cache']);
  const volumes = before.volumes.map((v) => v.Name).sort();
  assert.equal(volumes.length, 1, 'the service has its volume');

  const down = berth.cli(['down']);
  assert.equal(down.code, 0, down.err + down.out);
  assert.match(down.out, /stopped the berth server at .* and every app/);
  await waitFor('the daemon to exit', () => berth.daemon!.exitCode !== null, 30_000, 50);

  const after = await dockerResources(owner);
  assert.deepEqual(running(after.containers), [], `no container of this berth still runs: ${JSON.stringify(after.containers.map((c) => [c.Names[0], c.State]))}`);
  assert.deepEqual(after.volumes.map((v) => v.Name).sort(), volumes, 'the service\'s volume is kept');

  await berth.startDaemon();
  const back = await dockerResources(owner);
  assert.deepEqual(running(back.containers), ['instance:web', 'service:cache']);
  const cache = back.containers.find((c) => c.Labels['berth.kind'] === 'service')!;
  const health = await waitFor(
    'the service to be healthy again',
    async () => {
      const status = (await back.engine.inspectContainer(cache.Id))?.State.Health?.Status;
      return status === 'healthy' ? status : undefined;
    },
    30_000,
    200,
  );
  assert.equal(health, 'healthy');
  await waitFor('the app to serve again', async () => (await request({ port: berth.httpPort, host: 'keeper.localhost' }).catch(() => ({ status: 0 }))).status === 200, 30_000, 200);
});
