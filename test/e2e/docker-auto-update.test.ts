import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { request, waitFor } from '../support/http.ts';
import { TestBerth } from '../support/berth.ts';
import { ensureNodeImage } from '../support/docker-images.ts';
import { failures, startLoad } from '../support/load.ts';
import { registrySuite, startRegistry, type TestRegistry } from '../support/registry.ts';

/**
 * Auto-update on the docker runtime, from a real local registry, with ONE registry and ONE berth for the
 * file, under a bounded load through berth's proxy the whole time: a pushed digest is deployed within the
 * interval (+ the deploy); an image that exits at once fails its gate and is pinned; an image that passes
 * its gate and then fails its health checks is reverted to the warm release it replaced and pinned; a newer
 * good digest is then taken. Not one request fails. Skips visibly without an engine or the registry
 * package; fails in CI.
 */
const exec = promisify(execFile);
const suite = await registrySuite('none');

/** MODE=exit: dies at once. MODE=sour: healthy for 3 s (its gate passes), then /health answers 500; / stays fine. */
const SERVER = `const http = require('node:http');
const started = Date.now();
if (process.env.MODE === 'exit') { console.error('broken image: exiting at once'); process.exit(3); }
http.createServer((req, res) => {
  if (req.url === '/health') {
    const sour = process.env.MODE === 'sour' && Date.now() - started > 3000;
    res.statusCode = sour ? 500 : 200;
    return res.end(sour ? 'sour' : 'ok');
  }
  res.end('web ' + process.env.VERSION + '\\n');
}).listen(process.env.PORT || 3000);
`;

const MANIFEST = (image: string) => `name: auto
image: ${image}
update:
  interval: 5s
  settle: 45s
health:
  path: /health
  interval: 200ms
  healthy_after: 2
  deadline: 15s
deploy:
  drain_timeout: 1s
  standby: 10m
`;

interface AppAnswer {
  updates: { image: string; lastCheckAt: string | null; lastError: unknown; serving: string | null; pinned: string | null }[];
}
interface DeploymentAnswer {
  id: string;
  kind: string;
  state: string;
  createdAt: string;
  error: { code: string } | null;
}

describe('auto-update from a registry (docker)', { skip: suite.skip }, () => {
  let registry: TestRegistry;
  let berth: TestBerth;
  const dirs: string[] = [];
  const local: string[] = [];

  /** Builds a tiny web image (its version in `web <version>`, its mode) and pushes it as acme/auto:live; the time the push ended and the digest. */
  async function push(version: string, mode: 'good' | 'exit' | 'sour'): Promise<{ digest: string; pushedAt: number }> {
    const dir = mkdtempSync(join(tmpdir(), 'berth-auto-update-'));
    dirs.push(dir);
    writeFileSync(join(dir, 'server.js'), SERVER);
    writeFileSync(join(dir, 'Dockerfile'), `FROM ${await ensureNodeImage()}\nENV VERSION=${version} MODE=${mode}\nCOPY server.js /srv/server.js\nCMD ["node", "/srv/server.js"]\n`);
    const tag = `berth-test/auto-update:${version}-${process.pid}`;
    local.push(tag);
    await exec('docker', ['build', '-q', '-t', tag, dir]);
    const digest = await registry.push(tag, 'acme/auto:live');
    return { digest, pushedAt: Date.now() };
  }

  const page = async () => (await request({ port: berth.httpPort, host: 'auto.localhost' })).body.trim();
  const app = async () => (await berth.api<AppAnswer>('GET', '/v1/apps/auto')).body;
  const deployments = async () => (await berth.api<{ deployments: DeploymentAnswer[] }>('GET', '/v1/apps/auto/deployments')).body.deployments;
  const events = async (type: string) => ((await berth.api<{ events: { type: string; data?: Record<string, unknown> }[] }>('GET', '/v1/apps/auto/events?limit=1000')).body.events).filter((e) => e.type === type);

  before(async () => {
    registry = await startRegistry();
    berth = await TestBerth.start({ runtime: 'docker', args: ['--node-image', await ensureNodeImage()] });
  });
  after(async () => {
    await berth?.close();
    await registry?.stop();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
    for (const tag of local) await exec('docker', ['rmi', '-f', tag]).catch(() => undefined);
  });

  test('a new digest is taken within the interval; a broken one is pinned or reverted; a newer good one is taken; 0 failed requests', { timeout: 400_000 }, async () => {
    const image = registry.ref('acme/auto:live');
    const v1 = await push('1', 'good');
    const dir = mkdtempSync(join(tmpdir(), 'berth-auto-update-app-'));
    dirs.push(dir);
    writeFileSync(join(dir, 'berth.yaml'), MANIFEST(image));
    const first = await berth.cliAsync(['deploy', '--image', image], { cwd: dir });
    assert.equal(first.code, 0, first.err + first.out);
    assert.equal(await page(), 'web 1');
    await waitFor('the first check', async () => (await app()).updates[0]?.lastCheckAt !== null, 15_000);
    assert.equal((await app()).updates[0].serving, v1.digest, 'the check finds the digest serving');

    // Bounded in time and count; one client loops as fast as the proxy answers (a few thousand a second here).
    const load = startLoad({ port: berth.httpPort, host: 'auto.localhost', concurrency: 1, maxDurationMs: 380_000, maxRequests: 2_000_000 });
    let revertedAt = Infinity;
    try {
      // 1. A new digest: an `update` deploy starts within the interval (5 s; the updater's pass runs every 250 ms), then serves.
      const v2 = await push('2', 'good');
      await waitFor('v2 to serve', async () => (await page()) === 'web 2', 60_000, 100);
      const update = (await deployments())[0];
      assert.equal(update.kind, 'update');
      const waited = Date.parse(update.createdAt) - v2.pushedAt;
      assert.ok(waited <= 5_000 + 1_500, `the update started ${waited} ms after the push: within the interval (+ a pass, and a slow machine)`);
      const found = await events('image.update.found');
      assert.equal(found.length, 1);
      assert.equal(found[0].data!.digest, v2.digest);

      // 2. An image that exits at once fails its gate: pinned, and v2 never stopped serving.
      const v3 = await push('3', 'exit');
      await waitFor('v3 to be pinned', async () => (await app()).updates[0].pinned === v3.digest, 60_000, 200);
      const failed = (await deployments()).find((d) => d.kind === 'update' && d.state === 'failed')!;
      assert.equal(failed.error!.code, 'START_FAILED');
      assert.equal(await page(), 'web 2');
      assert.deepEqual((await events('image.update.pinned')).map((e) => e.data!.digest), [v3.digest]);

      // 3. An image that passes its gate, then fails its health checks: reverted to v2 (warm), pinned.
      const v4 = await push('4', 'sour');
      await waitFor('v4 to take traffic', async () => (await page()) === 'web 4', 60_000, 100);
      await waitFor('the revert', async () => (await events('image.update.reverted')).length === 1, 90_000, 250);
      await waitFor('v2 to serve again', async () => (await page()) === 'web 2', 30_000, 100);
      revertedAt = Date.now();
      const rollback = (await deployments())[0];
      assert.equal(rollback.kind, 'rollback');
      assert.equal((await events('image.update.reverted'))[0].data!.digest, v4.digest);
      assert.deepEqual((await events('image.update.pinned')).map((e) => e.data!.digest), [v3.digest, v4.digest]);
      const state = (await app()).updates[0];
      assert.equal(state.pinned, v4.digest);
      assert.equal(state.serving === v2.digest || state.serving === v4.digest, true);
      const status = await berth.cliAsync(['status', 'auto']);
      assert.equal(status.code, 0, status.err);
      assert.match(status.out, /auto-update:/);
      assert.match(status.out, new RegExp(`${v4.digest.slice(0, 19)} failed and is skipped until the tag names another image`));
      // The pinned digest is still what the tag names: checked again, not deployed again.
      const before = (await deployments()).length;
      await new Promise((resolve) => setTimeout(resolve, 7_000));
      assert.equal((await deployments()).length, before, 'the pinned digest is skipped');
      assert.equal(await page(), 'web 2');

      // 4. A newer good digest is taken.
      await push('5', 'good');
      await waitFor('v5 to serve', async () => (await page()) === 'web 5', 60_000, 100);
      assert.equal((await app()).updates[0].pinned, null, 'a newer digest replaces the pin');
    } finally {
      await load.stop();
    }
    const bad = failures(load.samples);
    assert.ok(load.samples.some((s) => s.start > revertedAt), `the load ran through the update and the revert (${load.samples.length} requests)`);
    assert.deepEqual(bad.slice(0, 5), [], `${bad.length} of ${load.samples.length} requests failed during the updates and the revert`);
  });
});
