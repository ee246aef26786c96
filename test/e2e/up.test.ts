import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { processAlive } from '../../src/cli/commands/down.ts';
import { silentLogger } from '../../src/lib/log.ts';
import { removeAppUsers } from '../../src/runtime/process/app-users.ts';
import { findOwnedProcesses } from '../../src/runtime/process/owned.ts';
import { request } from '../support/http.ts';
import { BIN, ownerIdOf } from '../support/berth.ts';
import { requireDocker } from '../support/docker.ts';

/** The README's first command ends in `bin/berth up` (scripts/up.sh only runs npm ci before it). */
function berth(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve) => {
    execFile(BIN, args, { env, timeout: 90_000 }, (error, out, err) => resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, out, err }));
  });
}

test('berth up starts a server in the background, deploys examples/hello, prints its URL and the admin token file; berth down stops it all', { timeout: 120_000 }, async () => {
  const home = mkdtempSync(join(tmpdir(), 'berth-up-'));
  // Run as root, the process runtime runs apps as users of their own, who pass through it to their builds.
  chmodSync(home, 0o711);
  const data = join(home, 'data');
  // The process runtime, as on the fresh machine the README is for (no Docker Engine there).
  const env = { PATH: process.env.PATH, HOME: home, XDG_CONFIG_HOME: join(home, 'config'), NO_COLOR: '1', BERTH_RUNTIME: 'process' };
  try {
    const up = await berth(['up', '--data', data, '--api', '127.0.0.1:0', '--http', '127.0.0.1:0', '--https', '127.0.0.1:0'], env);
    assert.equal(up.code, 0, `${up.out}\n${up.err}`);
    const url = /deployed hello v1 \(rel_\w+\) -> (http:\/\/hello\.localhost:(\d+))/.exec(up.out);
    assert.ok(url, up.out);
    assert.match(up.out, new RegExp(`admin token +${join(data, 'admin-token')}`));
    assert.equal(statSync(join(data, 'admin-token')).mode & 0o777, 0o600);
    assert.equal(statSync(data).mode & 0o777, process.getuid?.() === 0 ? 0o711 : 0o700, 'only berth\'s user enters the data dir (app users pass through it)');
    assert.equal(statSync(join(data, 'logs', 'daemon.log')).mode & 0o777, 0o600);

    const page = await request({ port: Number(url[2]), host: 'hello.localhost' });
    assert.equal(page.status, 200);
    assert.match(page.body, /Hello from berth/);

    const again = await berth(['up', '--data', data], env);
    assert.equal(again.code, 0, again.err);
    assert.match(again.out, /deployed hello v2/, 'a second up reuses the running server and deploys again');

    const daemonPid = (JSON.parse(readFileSync(join(data, 'run', 'api.json'), 'utf8')) as { pid: number }).pid;
    const owner = ownerIdOf(data);
    assert.ok(findOwnedProcesses(owner).length >= 2, 'the proxy and the app run');
    const down = await berth(['down', '--data', data], env);
    assert.equal(down.code, 0, down.err);
    assert.deepEqual(findOwnedProcesses(owner), [], 'down leaves no process of berth or its apps');
    assert.ok(!processAlive(daemonPid), 'the daemon has exited');
  } finally {
    await berth(['down', '--data', data], env);
    // `down` keeps what the apps need to come back, their users included: they go with the data dir.
    try {
      await removeAppUsers({ ownerId: ownerIdOf(data), homes: join(data, 'runtime', 'process', 'homes'), log: silentLogger });
    } catch {}
    rmSync(home, { recursive: true, force: true });
  }
});

test('with a Docker Engine that cannot reach a registry, berth up says so and runs the example on the process runtime', { timeout: 180_000 }, async (t) => {
  if (!(await requireDocker(t))) return;
  const home = mkdtempSync(join(tmpdir(), 'berth-up-noreg-'));
  chmodSync(home, 0o711);
  const data = join(home, 'data');
  // The engine answers, but the base image of the generated Dockerfile lives on a registry that refuses
  // connections: what a server without internet access meets on its first `npm run up`.
  const env = { PATH: process.env.PATH, HOME: home, XDG_CONFIG_HOME: join(home, 'config'), NO_COLOR: '1', BERTH_NODE_IMAGE: '127.0.0.1:1/node:24-slim' };
  try {
    const up = await berth(['up', '--data', data, '--api', '127.0.0.1:0', '--http', '127.0.0.1:0', '--https', '127.0.0.1:0'], env);
    assert.equal(up.code, 0, `${up.out}\n${up.err}`);
    assert.match(up.out, /the Docker Engine cannot reach an image registry/);
    assert.match(up.out, /process runtime/);
    const url = /deployed hello v\d+ \(rel_\w+\) -> (http:\/\/hello\.localhost:(\d+))/.exec(up.out);
    assert.ok(url, up.out);
    const page = await request({ port: Number(url[2]), host: 'hello.localhost' });
    assert.equal(page.status, 200);
    assert.match(page.body, /Hello from berth/);
  } finally {
    await berth(['down', '--data', data], env);
    try {
      await removeAppUsers({ ownerId: ownerIdOf(data), homes: join(data, 'runtime', 'process', 'homes'), log: silentLogger });
    } catch {}
    rmSync(home, { recursive: true, force: true });
  }
});
