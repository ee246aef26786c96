import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request, waitFor } from '../support/http.ts';
import { appCopy, dockerResources, ROOT, TestBerth } from '../support/berth.ts';
import { dockerSuite } from '../support/docker.ts';
import { ensureNodeImage, ensureRedisImage } from '../support/docker-images.ts';

/**
 * Apps on real containers: the seeds' job system with Redis as an accessory, a failing release
 * command, crashes and OOM kills under the restart policy, a static site's caching across a
 * redeploy, and services put back when a deploy fails after changing them. Skips visibly without an engine; fails in CI (BERTH_REQUIRE_DOCKER=1).
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

/** examples/jobs as shipped, with the locally built Redis image (no registry is reachable in tests). */
function jobsApp(): string {
  const dir = mkdtempSync(join(tmpdir(), 'berth-jobs-'));
  cpSync(join(ROOT, 'examples', 'jobs'), dir, { recursive: true });
  const manifest = readFileSync(join(dir, 'berth.yaml'), 'utf8').replace('image: redis:7', `image: ${redisImage}`);
  writeFileSync(join(dir, 'berth.yaml'), manifest);
  return dir;
}

/** An app with services, for the service-undo test. */
const stashManifest = (services: string, extra = '') => `name: stash
health:
  path: /health
  interval: 200ms
services:
${services}${extra}`;

describe('docker runtime', { skip: docker.skip }, () => {
  test('examples/jobs: a job submitted through the proxy is processed by the worker; worker and Redis stay private', { timeout: 240_000 }, async () => {
    const deployed = await berth.deploy('jobs', jobsApp());
    assert.equal(deployed.release.name, 'v1');
    const submit = await request({ port: berth.httpPort, host: 'jobs.localhost', path: '/api/jobs', method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ n: 1000 }) });
    assert.equal(submit.status, 202, submit.body);
    const { id } = JSON.parse(submit.body);
    const done = await waitFor(
      'the job to complete',
      async () => {
        const job = JSON.parse((await request({ port: berth.httpPort, host: 'jobs.localhost', path: `/api/jobs/${id}` })).body);
        return job.status === 'completed' ? job : undefined;
      },
      30_000,
      200,
    );
    assert.equal(Number(done.result), 76127, 'the sum of the primes below 1000');

    const app = (await berth.api('GET', '/v1/apps/jobs')).body;
    assert.deepEqual(app.instances.map((i: { process: string }) => i.process).sort(), ['api', 'web', 'worker']);
    // Only web is routed: the proxy's table holds web instances alone.
    const { containers } = await dockerResources(berth.ownerId());
    const kinds = containers.map((c) => `${c.Labels['berth.kind']}:${c.Labels['berth.process'] ?? c.Labels['berth.service']}`).sort();
    assert.deepEqual(kinds, ['instance:api', 'instance:web', 'instance:worker', 'service:redis']);
    const engine = (await dockerResources(berth.ownerId())).engine;
    for (const c of containers) {
      const inspect = await engine.inspectContainer(c.Id);
      const ports = (inspect as unknown as { NetworkSettings: { Ports: Record<string, unknown[] | null> } }).NetworkSettings.Ports ?? {};
      assert.ok(Object.values(ports).every((bindings) => !bindings || bindings.length === 0), `${c.Names[0]} publishes nothing on the host`);
      assert.deepEqual(Object.keys(inspect!.NetworkSettings.Networks), [`berth_${berth.ownerId()}_jobs_production`], `${c.Names[0]} is only on the app's network`);
    }
    // Any other hostname, or a path meant for the worker, never reaches them through the proxy.
    assert.equal((await request({ port: berth.httpPort, host: 'redis.localhost' })).status, 404);
    assert.equal((await request({ port: berth.httpPort, host: 'worker.jobs.localhost' })).status, 404);

    // berth run: a one-off container of the current release, on the app's network, with its env.
    const reach = await berth.cliAsync(['run', 'jobs', '--', 'node', '-e', "require('net').connect(6379, 'redis').on('connect', () => { console.log('redis at ' + process.env.REDIS_URL); process.exit(0) })"]);
    assert.equal(reach.code, 0, reach.err);
    assert.match(reach.out, /redis at redis:\/\/redis:6379/);
    assert.equal((await berth.cliAsync(['run', 'jobs', '--', 'sh', '-c', 'exit 3'])).code, 3, 'the exit code is the command\'s');

    // berth scale: through the gated path, and it stays for the next deploy.
    const scaled = await berth.cliAsync(['scale', 'jobs', 'worker=2']);
    assert.equal(scaled.code, 0, scaled.err + scaled.out);
    const workers = (await berth.api('GET', '/v1/apps/jobs')).body.instances.filter((i: { process: string; state: string }) => i.process === 'worker' && i.state === 'serving');
    assert.equal(workers.length, 2);

    // berth doctor: which runtime, and why.
    const doctor = JSON.parse((await berth.cliAsync(['doctor', '--json'])).out);
    assert.equal(doctor.runtime.driver, 'docker');
    assert.match(doctor.runtime.reason, /--runtime docker/);
    assert.ok(doctor.runtime.engine.Version);
  });

  test('a deploy from a git checkout tags the image <app>:<release> and <app>:<commit>', { timeout: 120_000 }, async () => {
    const dir = appCopy('versioned', { 'berth.yaml': 'name: tagged\nhealth:\n  path: /health\n  interval: 200ms\n' });
    git(dir, 'init', '-q');
    git(dir, 'add', '.');
    git(dir, 'commit', '-q', '-m', 'first version of the app');
    const sha = git(dir, 'rev-parse', '--short=12', 'HEAD');
    // Async: a synchronous CLI run would hold this process while the daemon closes an idle pooled connection (see cliAsync).
    const deployed = await berth.cliAsync(['deploy', dir]);
    assert.equal(deployed.code, 0, deployed.err);
    const release = (await berth.api('GET', '/v1/apps/tagged/releases')).body.releases[0];
    assert.equal(release.gitSha, sha);
    assert.equal(release.description, `${sha.slice(0, 7)} first version of the app`);
    const { images } = await dockerResources(berth.ownerId());
    const tags = images.flatMap((i) => i.RepoTags ?? []);
    assert.ok(tags.includes(`tagged:${sha}`), JSON.stringify(tags));
    assert.ok(tags.includes('tagged:v1'), JSON.stringify(tags));
  });

  test('a failing release command aborts the deploy and leaves the old release untouched', { timeout: 180_000 }, async () => {
    const dir = appCopy('versioned', { 'berth.yaml': 'name: migrate\nhealth:\n  path: /health\n  interval: 200ms\n' });
    await berth.deploy('migrate', dir);
    writeFileSync(join(dir, 'migrate.js'), "console.log('migrating the schema'); console.error('relation users already exists'); process.exit(4);\n");
    writeFileSync(join(dir, 'berth.yaml'), 'name: migrate\nhealth:\n  path: /health\n  interval: 200ms\nrelease: node migrate.js\n');
    const reply = await berth.upload('migrate', dir);
    const failed = await berth.settle(reply.body.deployment.id, 'finished');
    assert.equal(failed.state, 'failed');
    assert.equal(failed.error.code, 'RELEASE_FAILED');
    assert.match(failed.error.message, /node migrate\.js.*exited with code 4/);
    assert.ok(failed.error.logTail.includes('relation users already exists'), JSON.stringify(failed.error.logTail));
    const app = (await berth.api('GET', '/v1/apps/migrate')).body;
    assert.equal(app.release.name, 'v1');
    assert.deepEqual(app.instances.map((i: { release: { name: string } }) => i.release.name), ['v1'], 'no instance of the failed release was started');
    assert.equal(JSON.parse((await request({ port: berth.httpPort, host: 'migrate.localhost' })).body).release, 'v1');
    const { containers } = await dockerResources(berth.ownerId());
    assert.ok(!containers.some((c) => c.Labels['berth.kind'] === 'one-off'), 'the one-off container is gone');
  });

  test('a crashed container is restarted per policy; one over its memory limit is killed, restarted and reported as out of memory', { timeout: 180_000 }, async () => {
    const yaml = 'name: fragile\nhealth:\n  path: /health\n  interval: 200ms\nprocesses:\n  web:\n    resources:\n      memory: 96mb\nrestart:\n  max_restarts: 3\n';
    await berth.deploy('fragile', appCopy('versioned', { 'berth.yaml': yaml }));
    const host = 'fragile.localhost';
    assert.equal((await request({ port: berth.httpPort, host, path: '/crash' })).status, 202);
    const restarted = await waitFor('a restart after the crash', async () => {
      const events = await appEvents('fragile');
      return events.find((e) => e.type === 'instance.restarted');
    }, 30_000, 200);
    assert.ok(restarted);
    await waitFor('the app to serve again', async () => (await request({ port: berth.httpPort, host }).catch(() => ({ status: 0 }))).status === 200, 30_000, 200);

    await request({ port: berth.httpPort, host, path: '/allocate?mb=400', timeoutMs: 20_000 }).catch(() => undefined);
    const oom = await waitFor('an out-of-memory report', async () => (await appEvents('fragile')).find((e) => e.type === 'instance.exited' && /out of memory/.test(e.message)), 30_000, 200);
    assert.equal(oom.data.exit.oom, true);
    await waitFor('the app back after the OOM kill', async () => (await request({ port: berth.httpPort, host }).catch(() => ({ status: 0 }))).status === 200, 30_000, 200);
    const status = (await berth.api('GET', '/v1/apps/fragile')).body;
    assert.equal(status.instances[0].restarts, 2);
    assert.equal(status.status, 'running');
  });

  test('a static site: HTML revalidates and changes right after a redeploy; fingerprinted assets are immutable', { timeout: 180_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'berth-static-'));
    const publish = (title: string, asset: string, previous?: string) => {
      mkdirSync(join(dir, 'public'), { recursive: true });
      if (previous) rmSync(join(dir, 'public', previous));
      writeFileSync(join(dir, 'public', 'index.html'), `<!doctype html><title>${title}</title><script src="/${asset}"></script>`);
      writeFileSync(join(dir, 'public', asset), `console.log(${JSON.stringify(title)})`);
    };
    writeFileSync(join(dir, 'berth.yaml'), 'name: site\nstatic: public\nhealth:\n  interval: 200ms\n');
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'site', private: true }));
    publish('first', 'app.3f2a1b9c.js');
    await berth.deploy('site', dir);
    const host = 'site.localhost';
    const page = await request({ port: berth.httpPort, host });
    assert.equal(page.status, 200);
    assert.match(page.body, /first/);
    assert.equal(page.headers['cache-control'], 'no-cache');
    const etag = String(page.headers.etag);
    assert.ok(etag.length > 2);
    const asset = await request({ port: berth.httpPort, host, path: '/app.3f2a1b9c.js' });
    assert.equal(asset.headers['cache-control'], 'public, max-age=31536000, immutable');
    assert.equal((await request({ port: berth.httpPort, host, headers: { 'if-none-match': etag } })).status, 304, 'unchanged HTML revalidates to 304');

    publish('second', 'app.9d8e7f6a.js', 'app.3f2a1b9c.js');
    await berth.deploy('site', dir);
    // A browser holding the old page and its ETag asks again: it gets the new page, not a stale 304.
    const fresh = await request({ port: berth.httpPort, host, headers: { 'if-none-match': etag } });
    assert.equal(fresh.status, 200);
    assert.match(fresh.body, /second/);
    assert.notEqual(fresh.headers.etag, etag);
    assert.equal((await request({ port: berth.httpPort, host, path: '/app.9d8e7f6a.js' })).headers['cache-control'], 'public, max-age=31536000, immutable');
  });

  test('a deploy that fails after changing a service and adding one puts the service back and removes the new one', { timeout: 180_000 }, async () => {
    const cache = (command: string) => `  cache:\n    image: ${redisImage}\n    command: ${command}\n    health:\n      command: redis-cli ping\n      interval: 500ms\n`;
    const dir = appCopy('versioned', { 'berth.yaml': stashManifest(cache('redis-server --save ""')) });
    await berth.deploy('stash', dir);
    const serviceContainers = async () =>
      (await dockerResources(berth.ownerId())).containers.filter((c) => c.Labels['berth.app'] === 'stash' && c.Labels['berth.kind'] === 'service');
    const before = await serviceContainers();
    assert.deepEqual(before.map((c) => c.Labels['berth.service']), ['cache']);

    writeFileSync(join(dir, 'migrate.js'), 'process.exit(5);\n');
    const extra = `  sidecar:\n    image: ${redisImage}\n    url_env: SIDECAR_URL\n`;
    writeFileSync(join(dir, 'berth.yaml'), stashManifest(cache('redis-server --save "" --maxmemory 10mb') + extra, 'release: node migrate.js\n'));
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

function git(dir: string, ...args: string[]) {
  const result = spawnSync('git', ['-C', dir, ...args], { encoding: 'utf8', env: { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@t', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@t' } });
  assert.equal(result.status, 0, result.stderr);
  return result.stdout.trim();
}

async function appEvents(app: string): Promise<{ type: string; message: string; data: any }[]> {
  // Instance events belong to the app, not to a deployment: read them from the store's API view of the app.
  const res = await berth.api('GET', `/v1/apps/${app}/events`);
  return res.body.events;
}
