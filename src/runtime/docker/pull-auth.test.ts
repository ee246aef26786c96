/**
 * Pulls from a real registry that wants a login (Debian's docker-registry with htpasswd, one for this
 * file): the driver asks for the registry's X-Registry-Auth value and pulls with it; without credentials,
 * or with a wrong password, the pull fails with REGISTRY_AUTH_FAILED, and no password reaches the error or
 * the log. Skips visibly without an engine, the registry package or htpasswd; fails in CI.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REGISTRY_USER, registrySuite, startRegistry, type TestRegistry } from '../../../test/support/registry.ts';
import { isBerthError } from '../../errors/catalogue.ts';
import { createLogger } from '../../lib/log.ts';
import { engineRegistryAuth } from '../../registry/credentials.ts';
import { createDockerDriver, type DockerDriver } from './driver.ts';
import { engineHarness, type EngineHarness } from './engine-harness.test-support.ts';
import type { RegistryAuth } from './images.ts';
import { ownerFilter } from './names.ts';

const suite = await registrySuite('htpasswd');

describe('pulling from a registry that wants a login', { skip: suite.skip, timeout: 300_000 }, () => {
  let registry: TestRegistry;
  let harness: EngineHarness;
  let root: string;
  let ref: string;
  const runId = randomBytes(4).toString('hex');
  const ownerId = `test-pull-auth-${runId}`;
  const drivers: DockerDriver[] = [];
  const logged: string[] = [];
  const asked: string[] = [];
  const wrongPassword = `wrong-${randomBytes(8).toString('hex')}`;

  const driver = (credentials: { username: string; password: string } | undefined): DockerDriver => {
    const registryAuth: RegistryAuth = (host) => {
      asked.push(host);
      return engineRegistryAuth(host, credentials);
    };
    const log = createLogger({ sink: { write: (line: string) => logged.push(line) }, level: 'debug' });
    const made = createDockerDriver({ engine: harness.engine, ownerId, root: join(root, `driver-${drivers.length}`), log, nodeImage: harness.base, build: { memoryBytes: 256 * 1024 ** 2, cpus: 1 }, registryAuth });
    drivers.push(made);
    return made;
  };

  const authFailure = async (promise: Promise<unknown>) => {
    try {
      await promise;
    } catch (error) {
      assert.ok(isBerthError(error), String((error as Error).stack));
      assert.equal(error.code, 'REGISTRY_AUTH_FAILED');
      return error;
    }
    assert.fail('expected the pull to be refused');
  };

  before(async () => {
    harness = await engineHarness();
    root = await mkdtemp(join(tmpdir(), 'berth-pull-auth-'));
    registry = await startRegistry({ auth: 'htpasswd' });
    // The fixture is pushed with the registry's user; only the registry has it afterwards.
    await registry.pushFresh('private/app:1');
    ref = registry.ref('private/app:1');
    assert.equal(await harness.engine.inspectImage(ref), undefined);
  });

  after(async () => {
    for (const made of drivers) await made.close();
    if (ref) await harness?.engine.removeImage(ref, { force: true }).catch(() => {});
    for (const image of (await harness?.engine.listImages(ownerFilter(ownerId))) ?? []) await harness.engine.removeImage(image.Id, { force: true }).catch(() => {});
    await registry?.stop();
    await harness?.cleanup();
    await rm(root, { recursive: true, force: true });
  });

  test('without credentials: REGISTRY_AUTH_FAILED, saying a login is needed and how', async () => {
    const error = await authFailure(driver(undefined).images.ensure(ref));
    assert.equal(error.message, `registry ${registry.host} refused access to ${ref}: it needs a login, and berth has no credentials for this registry`);
    assert.match(error.hint!, new RegExp(`berth registry login ${registry.host.replace(/\./g, '\\.')} --username USER --password-stdin`));
    assert.equal(await harness.engine.inspectImage(ref), undefined);
  });

  test('a wrong password: REGISTRY_AUTH_FAILED, the password in neither the error nor the log', async () => {
    const error = await authFailure(driver({ username: REGISTRY_USER.username, password: wrongPassword }).images.ensure(ref));
    assert.match(error.message, /the credentials were refused/);
    for (const text of [error.message, error.hint ?? '', JSON.stringify(error), ...logged]) {
      assert.ok(!text.includes(wrongPassword), `no password in: ${text}`);
      assert.ok(!text.includes(engineRegistryAuth(registry.host, { username: REGISTRY_USER.username, password: wrongPassword })!), 'nor the header carrying it');
    }
    assert.equal(await harness.engine.inspectImage(ref), undefined);
  });

  test('the right credentials: the driver asks for the registry\'s and pulls with them', async () => {
    asked.length = 0;
    const pulled = await driver(REGISTRY_USER).images.ensure(ref);
    assert.equal(pulled.pulled, true);
    assert.deepEqual(asked, [registry.host]);
    assert.equal((await harness.engine.inspectImage(ref))?.Id, pulled.id);
    assert.ok(pulled.repoDigests.some((d) => d.startsWith(`${registry.host}/private/app@sha256:`)), JSON.stringify(pulled.repoDigests));
    for (const line of logged) assert.ok(!line.includes(REGISTRY_USER.password), `no password in the log: ${line}`);
    // There now: no credentials asked for, nothing pulled.
    asked.length = 0;
    assert.deepEqual(await driver(undefined).images.ensure(ref), { pulled: false, id: pulled.id, repoDigests: pulled.repoDigests });
    assert.deepEqual(asked, []);
  });
});
