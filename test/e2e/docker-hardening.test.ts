import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from '../support/http.ts';
import { appCopy, dockerResources, TestBerth } from '../support/berth.ts';
import { dockerSuite } from '../support/docker.ts';
import { ensureNodeImage, ensureRedisImage } from '../support/docker-images.ts';

/**
 * How locked down berth's containers are, on a real engine through a real daemon: no container gains
 * privileges; one built from berth's generated Dockerfile has no capability at all and still serves; a
 * process with `read_only: true` cannot write its root filesystem but can write /tmp; an app with its own
 * Dockerfile keeps the engine's default capabilities; a Redis service runs with no-new-privileges.
 * Skips visibly without an engine; fails in CI (BERTH_REQUIRE_DOCKER=1).
 */
const docker = await dockerSuite();
let berth: TestBerth;
let nodeImage = '';
let redisImage = '';
before(async () => {
  if (docker.skip) return;
  nodeImage = await ensureNodeImage();
  redisImage = await ensureRedisImage();
  berth = await TestBerth.start({ runtime: 'docker', args: ['--node-image', nodeImage] });
});
after(async () => {
  await berth?.close();
});

/** Says what the app's own process may do: write a path, and what the kernel says of its privileges. */
const probeServer = `import { createServer } from 'node:http';
import { readFileSync, writeFileSync } from 'node:fs';
const attempt = (fn) => { try { fn(); return 'ok'; } catch (error) { return error.code; } };
createServer((req, res) => {
  const url = new URL(req.url, 'http://x');
  if (url.pathname === '/write') return res.end(attempt(() => writeFileSync(url.searchParams.get('path'), 'x')));
  if (url.pathname === '/status') return res.end(readFileSync('/proc/self/status', 'utf8'));
  res.end('served');
}).listen(Number(process.env.PORT), process.env.HOST);
`;

const manifest = (name: string, extra: string) => `name: ${name}\nhealth:\n  path: /health\n  interval: 200ms\n${extra}`;
const statusLine = (status: string, key: string) => new RegExp(`^${key}:\\s*(\\S+)`, 'm').exec(status)?.[1];

async function containerOf(app: string, kind: 'instance' | 'service') {
  const { engine, containers } = await dockerResources(berth.ownerId());
  const found = containers.filter((c) => c.Labels['berth.app'] === app && c.Labels['berth.kind'] === kind);
  assert.equal(found.length, 1, `one ${kind} container of ${app}`);
  return { engine, id: found[0].Id, inspect: (await engine.inspectContainer(found[0].Id))! };
}

describe('docker runtime: container lock-down', { skip: docker.skip }, () => {
  test('generated Dockerfile + read_only: no capabilities, no new privileges, EROFS on / but /tmp works, serves; its Redis gains no privileges', { timeout: 240_000 }, async () => {
    const yaml = manifest(
      'locked',
      `processes:\n  web:\n    read_only: true\n    depends_on: [cache]\nservices:\n  cache:\n    image: ${redisImage}\n    health:\n      command: redis-cli ping\n      interval: 500ms\n`,
    );
    await berth.deploy('locked', appCopy('versioned', { 'server.js': probeServer, 'berth.yaml': yaml }));
    const host = 'locked.localhost';
    const get = async (path: string) => (await request({ port: berth.httpPort, host, path })).body;

    assert.equal(await get('/'), 'served');
    assert.equal(await get('/write?path=/app/probe'), 'EROFS', 'the root filesystem is read-only, /app included');
    assert.equal(await get('/write?path=/tmp/probe'), 'ok', '/tmp stays writable');
    const status = await get('/status');
    assert.equal(statusLine(status, 'NoNewPrivs'), '1', status);
    assert.equal(statusLine(status, 'CapBnd'), '0000000000000000', status);
    assert.equal(statusLine(status, 'CapEff'), '0000000000000000', status);

    const { engine, id, inspect } = await containerOf('locked', 'instance');
    assert.deepEqual(inspect.HostConfig?.SecurityOpt, ['no-new-privileges:true']);
    assert.deepEqual(inspect.HostConfig?.CapDrop, ['ALL']);
    assert.equal(inspect.HostConfig?.ReadonlyRootfs, true);
    assert.deepEqual(inspect.HostConfig?.Tmpfs, { '/tmp': 'rw,nosuid,nodev,size=64m,mode=1777' });
    // Even root in that container has no CAP_CHOWN: the files the app was shipped with cannot be given away.
    const chown = await engine.exec(id, ['chown', '0', '/tmp/probe'], { user: '0', timeoutMs: 10_000 });
    assert.notEqual(chown.exitCode, 0, chown.output);
    assert.match(chown.output, /Operation not permitted/);

    const service = await containerOf('locked', 'service');
    assert.deepEqual(service.inspect.HostConfig?.SecurityOpt, ['no-new-privileges:true']);
    assert.equal(service.inspect.HostConfig?.CapDrop ?? null, null, 'the service keeps the capabilities its image needs');
    assert.equal(service.inspect.State.Health?.Status, 'healthy');
  });

  test('an app with its own Dockerfile keeps the engine\'s default capabilities and a writable root, and still gains no privileges', { timeout: 240_000 }, async () => {
    const dockerfile = `FROM ${nodeImage}\nWORKDIR /app\nCOPY . .\nCMD ["node", "server.js"]\n`;
    await berth.deploy('own', appCopy('versioned', { 'server.js': probeServer, Dockerfile: dockerfile, 'berth.yaml': manifest('own', '') }));
    const get = async (path: string) => (await request({ port: berth.httpPort, host: 'own.localhost', path })).body;
    assert.equal(await get('/'), 'served');
    assert.equal(await get('/write?path=/app/probe'), 'ok');
    assert.equal(statusLine(await get('/status'), 'NoNewPrivs'), '1');

    const { engine, id, inspect } = await containerOf('own', 'instance');
    assert.deepEqual(inspect.HostConfig?.SecurityOpt, ['no-new-privileges:true']);
    assert.equal(inspect.HostConfig?.CapDrop ?? null, null);
    assert.equal(inspect.HostConfig?.ReadonlyRootfs, false);
    const chown = await engine.exec(id, ['chown', '1000', '/app/probe'], { user: '0', timeoutMs: 10_000 });
    assert.equal(chown.exitCode, 0, chown.output);
  });
});
