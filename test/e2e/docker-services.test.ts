import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { request } from '../support/http.ts';
import { appCopy, dockerResources, TestBerth } from '../support/berth.ts';
import { dockerSuite } from '../support/docker.ts';
import { ensureNodeImage, ensureRedisImage } from '../support/docker-images.ts';

/**
 * Services are brought to the new release's spec before its release command and health gate; a deploy
 * that fails afterwards must leave them as the serving release has them. Skips visibly without an
 * engine; fails in CI (BERTH_REQUIRE_DOCKER=1).
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

const manifest = (services: string, extra = '') => `name: stash
health:
  path: /health
  interval: 200ms
services:
${services}${extra}`;

describe('docker services', { skip: docker.skip }, () => {
  test('a deploy that fails after changing a service and adding one puts the service back and removes the new one', { timeout: 180_000 }, async () => {
    const cache = (command: string) => `  cache:\n    image: ${redisImage}\n    command: ${command}\n    health:\n      command: redis-cli ping\n      interval: 500ms\n`;
    const dir = appCopy('versioned', { 'berth.yaml': manifest(cache('redis-server --save ""')) });
    await berth.deploy('stash', dir);
    const serviceContainers = async () =>
      (await dockerResources(berth.ownerId())).containers.filter((c) => c.Labels['berth.app'] === 'stash' && c.Labels['berth.kind'] === 'service');
    const before = await serviceContainers();
    assert.deepEqual(before.map((c) => c.Labels['berth.service']), ['cache']);

    writeFileSync(join(dir, 'migrate.js'), 'process.exit(5);\n');
    const extra = `  sidecar:\n    image: ${redisImage}\n    url_env: SIDECAR_URL\n`;
    writeFileSync(join(dir, 'berth.yaml'), manifest(cache('redis-server --save "" --maxmemory 10mb') + extra, 'release: node migrate.js\n'));
    const reply = await berth.upload('stash', dir, '?wait=1');
    assert.equal(reply.status, 202, JSON.stringify(reply.body));
    const failed = await berth.settle(reply.body.deployment.id, 'finished');
    assert.equal(failed.state, 'failed');
    assert.equal(failed.error.code, 'RELEASE_FAILED');

    const after = await serviceContainers();
    assert.deepEqual(after.map((c) => c.Labels['berth.service']), ['cache'], 'the service new in the failed release is gone');
    const { engine } = await dockerResources(berth.ownerId());
    const inspected = (await engine.inspectContainer(after[0].Id)) as unknown as { Config: { Cmd: string[] }; State: { Running: boolean } };
    assert.doesNotMatch(inspected.Config.Cmd.join(' '), /maxmemory/, 'cache runs with the serving release\'s command again');
    assert.match(inspected.Config.Cmd.join(' '), /redis-server/);
    assert.equal(inspected.State.Running, true);
    assert.equal(JSON.parse((await request({ port: berth.httpPort, host: 'stash.localhost' })).body).release, 'v1');
  });
});
