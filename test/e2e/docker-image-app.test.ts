import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { request } from '../support/http.ts';
import { dockerResources, TestBerth } from '../support/berth.ts';
import { ensureNodeImage, ensureRedisImage } from '../support/docker-images.ts';
import { registrySuite, startRegistry, type TestRegistry } from '../support/registry.ts';

/**
 * Image apps on the docker runtime, from a real local registry: `berth deploy --image` resolves the tag
 * to a digest, pulls it (progress in the output) and runs it; a release keeps its digest, so a rollback
 * after the tag moved runs the old bytes; a service image only the registry has is pulled on the first
 * deploy; an unknown tag fails the deploy before anything changes. Skips visibly without an engine or the
 * registry package; fails in CI.
 */
const exec = promisify(execFile);
const suite = await registrySuite('none');

const SERVER = `const http = require('node:http');
http.createServer((req, res) => res.end(req.url === '/health' ? 'ok' : 'web ' + process.env.VERSION + '\\n')).listen(process.env.PORT || 3000);
`;

describe('image apps from a registry', { skip: suite.skip }, () => {
  let registry: TestRegistry;
  let berth: TestBerth;
  const dirs: string[] = [];
  let redis = '';

  /** Builds a tiny web image answering `web <version>` and pushes it under `target`; its digest. */
  async function pushWeb(version: string, target: string): Promise<string> {
    const dir = mkdtempSync(join(tmpdir(), 'berth-image-app-'));
    dirs.push(dir);
    writeFileSync(join(dir, 'server.js'), SERVER);
    writeFileSync(join(dir, 'Dockerfile'), `FROM ${await ensureNodeImage()}\nENV VERSION=${version}\nCOPY server.js /srv/server.js\nCMD ["node", "/srv/server.js"]\n`);
    const local = `berth-test/image-app:${version}-${process.pid}`;
    await exec('docker', ['build', '-q', '-t', local, dir]);
    return registry.push(local, target);
  }

  /** A folder holding only a berth.yaml, as `berth deploy --image` reads it. */
  function manifestDir(text: string): string {
    const dir = mkdtempSync(join(tmpdir(), 'berth-image-manifest-'));
    dirs.push(dir);
    writeFileSync(join(dir, 'berth.yaml'), text);
    return dir;
  }

  const page = async () => (await request({ port: berth.httpPort, host: 'shop.localhost' })).body.trim();

  before(async () => {
    registry = await startRegistry();
    redis = registry.ref('library/redis:7');
    await registry.push(await ensureRedisImage(), 'library/redis:7');
    berth = await TestBerth.start({ runtime: 'docker', args: ['--node-image', await ensureNodeImage()] });
  });
  after(async () => {
    await berth?.close();
    await registry?.stop();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  test('deploy --image pulls and runs the digest; a release keeps it, so a rollback runs the old bytes after the tag moved', { timeout: 300_000 }, async () => {
    const v1 = await pushWeb('1', 'acme/web:stable');
    const yaml = `name: shop
health:
  path: /health
  interval: 200ms
processes:
  web:
    depends_on: [cache]
services:
  cache:
    image: ${redis}
    health:
      command: redis-cli ping
      interval: 500ms
`;
    const dir = manifestDir(yaml);
    const first = await berth.cliAsync(['deploy', '--image', registry.ref('acme/web:stable')], { cwd: dir });
    assert.equal(first.code, 0, first.err + first.out);
    assert.match(first.out, /pulling .*redis:7|pulled .*redis:7/, 'the service image only the registry has is pulled, and the output says so');
    assert.match(first.out, /pulled .*acme\/web:stable/);
    assert.match(first.out, /deployed shop v1/);
    assert.equal(await page(), 'web 1');

    await pushWeb('2', 'acme/web:stable');
    const second = await berth.cliAsync(['deploy', '--image', registry.ref('acme/web:stable')], { cwd: dir });
    assert.equal(second.code, 0, second.err + second.out);
    assert.equal(await page(), 'web 2', 'a deploy resolves the tag again');

    const releases = (await berth.api('GET', '/v1/apps/shop/releases')).body.releases as { name: string; image: string | null }[];
    assert.equal(releases.find((r) => r.name === 'v1')!.image, registry.ref(`acme/web@${v1}`), 'v1 records the digest it ran');
    assert.notEqual(releases.find((r) => r.name === 'v2')!.image, releases.find((r) => r.name === 'v1')!.image);
    const listed = await berth.cliAsync(['releases', 'shop']);
    assert.match(listed.out, new RegExp(v1.slice(0, 19)), '`berth releases` shows the digest');

    const back = await berth.cliAsync(['rollback', 'shop', 'v1']);
    assert.equal(back.code, 0, back.err + back.out);
    assert.equal(await page(), 'web 1', 'the rollback runs v1\'s digest although the tag now names v2');
  });

  test('an unknown tag fails the deploy before anything changes: the serving release keeps serving, nothing is left behind', { timeout: 120_000 }, async () => {
    const owner = berth.ownerId();
    const containersBefore = (await dockerResources(owner)).containers.map((c) => c.Id).sort();
    const failed = await berth.cliAsync(['deploy', '--image', registry.ref('acme/web:no-such-tag'), '--app', 'shop']);
    assert.equal(failed.code, 1);
    assert.match(failed.err, /IMAGE_NOT_FOUND|not found/);
    assert.doesNotMatch(failed.err, /internal error/);
    assert.equal(await page(), 'web 1');
    assert.deepEqual((await dockerResources(owner)).containers.map((c) => c.Id).sort(), containersBefore, 'no container made or removed');

    const invalid = await berth.cliAsync(['deploy', '--image', 'Redis:7', '--app', 'shop']);
    assert.notEqual(invalid.code, 0);
    assert.match(invalid.err, /lowercase/);
  });
});
