/**
 * `berth registry login` end to end, on the docker runtime with a real daemon, a real registry that wants
 * a login (Debian's docker-registry with htpasswd) and the real CLI: an app whose service image is only in
 * that registry fails its deploy with REGISTRY_AUTH_FAILED (nothing created, nothing pulled) until the
 * CLI logs in; then the same deploy pulls the image and serves. The password is typed into no command
 * line and shows up nowhere: not in the data directory, the daemon log, an API answer, the CLI's output,
 * a process's arguments or a container's configuration. Skips visibly without an engine, the registry
 * package or htpasswd; fails in CI.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createDockerEngine } from '../../src/runtime/docker/engine-http.ts';
import { appCopy, dockerResources, TestBerth } from '../support/berth.ts';
import { ensureNodeImage, ensureRedisImage } from '../support/docker-images.ts';
import { request } from '../support/http.ts';
import { REGISTRY_USER, registrySuite, startRegistry, type TestRegistry } from '../support/registry.ts';

const suite = await registrySuite('htpasswd');
const WRONG_PASSWORD = 'wrong-pa55-8c2e41';

describe('private registries from the CLI', { skip: suite.skip, timeout: 600_000 }, () => {
  let registry: TestRegistry;
  let berth: TestBerth;
  let image = '';
  let app = '';
  /** Every API answer and CLI output of this file, searched for the password at the end. */
  const seen: string[] = [];

  const manifest = () =>
    [
      'name: vault',
      'health:',
      '  path: /health',
      '  interval: 200ms',
      'services:',
      '  cache:',
      `    image: ${image}`,
      '    command: redis-server --save ""',
      '    health:',
      '      command: redis-cli ping',
      '      interval: 500ms',
      '',
    ].join('\n');

  const cli = async (args: string[], input = '') => {
    const result = await berth.cliAsync(args, { input });
    seen.push(result.out, result.err);
    return result;
  };
  const api = async (method: string, path: string) => {
    const reply = await berth.api(method, path);
    seen.push(JSON.stringify(reply.body));
    return reply;
  };
  const deploy = async () => {
    const reply = await berth.upload('vault', app, '?wait=1');
    assert.equal(reply.status, 202, JSON.stringify(reply.body));
    const done = await berth.settle(reply.body.deployment.id, 'finished', 240_000);
    seen.push(JSON.stringify(done));
    return done;
  };
  const services = async () => (await dockerResources(berth.ownerId())).containers.filter((c) => c.Labels['berth.app'] === 'vault' && c.Labels['berth.kind'] === 'service');

  before(async () => {
    registry = await startRegistry({ auth: 'htpasswd' });
    // Pushed with the registry's user, then untagged: the engine has it only under its local name.
    await registry.push(await ensureRedisImage(), 'private/redis:7');
    image = registry.ref('private/redis:7');
    assert.equal(await createDockerEngine().inspectImage(image), undefined);
    berth = await TestBerth.start({ runtime: 'docker', args: ['--node-image', await ensureNodeImage()] });
    app = appCopy('versioned', { 'berth.yaml': manifest() });
  });

  after(async () => {
    await berth?.close();
    // The pulled tag only: the image stays under the local name other tests use.
    if (image) await createDockerEngine().removeImage(image, { force: true }).catch(() => {});
    await registry?.stop();
  });

  test('before a login: the deploy fails with REGISTRY_AUTH_FAILED, nothing is created or pulled', async () => {
    const failed = await deploy();
    assert.equal(failed.state, 'failed');
    assert.equal(failed.error.code, 'REGISTRY_AUTH_FAILED', JSON.stringify(failed.error));
    assert.match(failed.error.hint, new RegExp(`berth registry login ${registry.host.replace(/\./g, '\\.')} --username USER --password-stdin`));
    assert.deepEqual(await services(), []);
    const containers = (await dockerResources(berth.ownerId())).containers.filter((c) => c.Labels['berth.app'] === 'vault');
    assert.deepEqual(containers.map((c) => c.Names), [], 'no container of the app');
    assert.equal(await createDockerEngine().inspectImage(image), undefined);
    assert.equal((await api('GET', '/v1/apps/vault')).body.release, null);
  });

  test('a wrong password: the CLI says the registry refused it, and nothing is saved', async () => {
    const refused = await cli(['registry', 'login', registry.host, '--username', REGISTRY_USER.username, '--password-stdin'], `${WRONG_PASSWORD}\n`);
    assert.equal(refused.code, 1, refused.err);
    assert.match(refused.err, new RegExp(`registry ${registry.host.replace(/\./g, '\\.')} refused the login`));
    assert.equal((await cli(['registry', 'list'])).out, 'no registry logins: `berth registry login HOST --username USER --password-stdin`\n');
  });

  test('after `berth registry login`: the same deploy pulls the image and serves', async () => {
    const login = await cli(['registry', 'login', registry.host, '--username', REGISTRY_USER.username, '--password-stdin'], `${REGISTRY_USER.password}\n`);
    assert.equal(login.code, 0, login.err);
    assert.match(login.out, new RegExp(`^logged in to ${registry.host.replace(/\./g, '\\.')} as ${REGISTRY_USER.username}:`));

    const list = await cli(['registry', 'list', '--json']);
    assert.equal(list.code, 0, list.err);
    assert.deepEqual(
      JSON.parse(list.out).registries.map((r: { host: string; username: string }) => [r.host, r.username]),
      [[registry.host, REGISTRY_USER.username]],
    );

    const deployed = await deploy();
    assert.equal(deployed.state, 'succeeded', JSON.stringify(deployed.error));
    const running = await services();
    assert.equal(running.length, 1);
    assert.equal(running[0].Image, image);
    assert.ok(await createDockerEngine().inspectImage(image), 'the engine pulled the image');
    const answer = await request({ port: berth.httpPort, host: 'vault.localhost' });
    assert.equal(answer.status, 200);
    assert.equal(JSON.parse(answer.body).release, 'v2');
  });

  test('logout forgets the login', async () => {
    const out = await cli(['registry', 'logout', registry.host]);
    assert.equal(out.code, 0, out.err);
    assert.equal(out.out, `logged out of ${registry.host}: the server no longer has its credentials\n`);
    const again = await cli(['registry', 'logout', registry.host]);
    assert.equal(again.code, 1);
    assert.match(again.err, /berth has no login for registry/);
    assert.deepEqual((await api('GET', '/v1/registries')).body, { registries: [] });
  });

  test('the password is nowhere: data directory, daemon log, API answers, CLI output, process arguments, containers', async () => {
    for (const path of ['/v1/apps/vault', '/v1/apps/vault/deployments', '/v1/apps/vault/events?limit=1000', '/v1/apps/vault/logs?tail=1000', '/v1/registries']) {
      assert.equal((await api('GET', path)).status, 200, path);
    }
    const { engine, containers } = await dockerResources(berth.ownerId());
    for (const container of containers) seen.push(JSON.stringify(await engine.inspectContainer(container.Id)));
    assert.ok(berth.daemonLog.includes('registry login saved'), 'the daemon logged the login (without its password)');
    for (const secret of [REGISTRY_USER.password, WRONG_PASSWORD]) {
      for (const text of seen) assert.ok(!text.includes(secret), `no password in: ${text.slice(0, 500)}`);
      assert.ok(!berth.daemonLog.includes(secret), 'no password in the daemon log');
      for (const file of filesUnder(berth.dataDir)) assert.ok(!readFileSync(file).includes(secret), `no password in ${file}`);
      for (const args of commandLines()) assert.ok(!args.includes(secret), `no password in the arguments of: ${args.slice(0, 200)}`);
    }
  });
});

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name));
}

/** What `ps` shows: every process's arguments. */
function commandLines(): string[] {
  const lines: string[] = [];
  for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    try {
      lines.push(readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' '));
    } catch {
      // gone meanwhile
    }
  }
  return lines;
}
