import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { appCopy, dockerResources, TestBerth } from '../support/berth.ts';
import { dockerSuite } from '../support/docker.ts';
import { ensureNodeImage, ensureRedisImage } from '../support/docker-images.ts';
import { failures, startLoad } from '../support/load.ts';

/**
 * What berth leaves on the engine, and what a build takes from the apps: deploy/destroy cycles leave no
 * container, network, volume or image of berth's; a heavy build does not fail a single request of
 * another app. Skips visibly without an engine; fails in CI.
 */
const docker = await dockerSuite();
let berth: TestBerth;
let redisImage = '';
before(async () => {
  if (docker.skip) return;
  redisImage = await ensureRedisImage();
  berth = await TestBerth.start({ runtime: 'docker', args: ['--node-image', await ensureNodeImage(), '--build-cpus', '1', '--build-memory', '512mb'] });
});
after(async () => {
  await berth?.close();
});

describe('docker runtime housekeeping', { skip: docker.skip }, () => {
  test('after 20 deploy/destroy cycles no container, network, volume or image of berth is left', { timeout: 900_000 }, async () => {
    const yaml = `name: cycle
health:
  path: /health
  interval: 200ms
services:
  cache:
    image: ${redisImage}
    volumes:
      data: /data
    health:
      command: redis-cli ping
      interval: 500ms
`;
    const dir = appCopy('versioned', { 'berth.yaml': yaml });
    for (let i = 1; i <= 20; i++) {
      await berth.deploy('cycle', dir);
      if (i % 5 === 0) await berth.deploy('cycle', dir); // some cycles have two releases, so pruning and standby are in play
      const destroyed = await berth.api('DELETE', '/v1/apps/cycle');
      assert.equal(destroyed.status, 200, JSON.stringify(destroyed.body));
    }
    const left = await dockerResources(berth.ownerId());
    const dangling = await left.engine.listImages({ dangling: ['true'], label: [`berth.owner=${berth.ownerId()}`] });
    assert.deepEqual(
      {
        containers: left.containers.map((c) => c.Names[0]),
        networks: left.networks.map((n) => n.Name),
        volumes: left.volumes.map((v) => v.Name),
        images: left.images.map((image) => image.RepoTags),
        dangling: dangling.map((image) => image.Id),
      },
      { containers: [], networks: [], volumes: [], images: [], dangling: [] },
    );
  });

  test('a live app keeps serving, 0 failed requests, while another app builds something heavy', { timeout: 300_000 }, async () => {
    await berth.deploy('steady', appCopy('versioned', { 'berth.yaml': 'name: steady\nhealth:\n  path: /health\n  interval: 200ms\n' }));
    const load = startLoad({ port: berth.httpPort, host: 'steady.localhost', concurrency: 4, maxDurationMs: 200_000 });
    // Burns CPU and grabs memory for a while, as a big frontend build does.
    const burn = "const end = Date.now() + 12000; const keep = []; let x = 0; while (Date.now() < end) { x += Math.sqrt(x + 1); if (keep.length < 300) keep.push(Buffer.alloc(1 << 20, 1)); } console.log('built', keep.length);";
    const heavy = appCopy('versioned', {
      'berth.yaml': 'name: heavy\nhealth:\n  path: /health\n  interval: 200ms\n',
      'package.json': JSON.stringify({ name: 'heavy', type: 'module', scripts: { build: `node -e "${burn}"`, start: 'node server.js' } }),
    });
    const started = Date.now();
    await berth.deploy('heavy', heavy);
    assert.ok(Date.now() - started > 10_000, 'the build really ran for a while');
    const samples = await load.stop();
    assert.ok(samples.length > 100, `the load ran (${samples.length} requests)`);
    assert.deepEqual(failures(samples).slice(0, 5), [], `${failures(samples).length} of ${samples.length} requests failed during the build`);
  });
});
