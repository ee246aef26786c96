/**
 * Basic auth against a real registry with htpasswd (bcrypt) auth, and the engine taking the
 * X-Registry-Auth value berth makes for the same credentials.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { isBerthError } from '../errors/catalogue.ts';
import { engineCall, registrySuite, startRegistry, type TestRegistry } from '../../test/support/registry.ts';
import { RegistryClient } from './client.ts';
import { engineRegistryAuth } from './credentials.ts';
import { parseReference } from './reference.ts';
import { registryContract } from './registry.contract.test-support.ts';

const suite = await registrySuite('htpasswd');

describe('a real registry with htpasswd auth', { skip: suite.skip }, () => {
  let registry: TestRegistry;
  let client: RegistryClient;
  before(async () => {
    registry = await startRegistry({ auth: 'htpasswd' });
    client = new RegistryClient({ timeoutMs: 10_000 });
  });
  after(async () => {
    client?.close();
    await registry?.stop();
  });

  registryContract('real client, Basic auth', { login: true }, () => ({
    port: client,
    domain: registry.host,
    push: (target) => registry.pushFresh(target),
    credentials: registry.credentials,
  }));

  test('a fresh client (no challenge remembered) resolves with the credentials; without them it is told to log in', async () => {
    const digest = await registry.pushFresh('private/app:1');
    const fresh = new RegistryClient();
    try {
      await assert.rejects(fresh.resolveDigest(parseReference(registry.ref('private/app:1'))), (error) => {
        assert.ok(isBerthError(error));
        assert.equal(error.code, 'REGISTRY_AUTH_FAILED');
        assert.equal(error.message, `registry ${registry.host} refused access to ${registry.host}/private/app:1: it needs a login`);
        assert.match(error.hint!, new RegExp(`berth registry login ${registry.host} --username USER --password-stdin`));
        return true;
      });
      assert.equal((await fresh.resolveDigest(parseReference(registry.ref('private/app:1')), { credentials: registry.credentials })).digest, digest);
    } finally {
      fresh.close();
    }
  });

  test('the engine pulls with the X-Registry-Auth value berth makes, and refuses a wrong password', async () => {
    await registry.pushFresh('private/pulled:1');
    const image = registry.ref('private/pulled:1');
    const pull = (auth: string) =>
      engineCall('POST', `/images/create?${new URLSearchParams({ fromImage: registry.ref('private/pulled'), tag: '1' })}`, { headers: { 'x-registry-auth': auth } });
    try {
      const wrong = await pull(engineRegistryAuth(registry.host, { username: registry.credentials!.username, password: 'wrong' })!);
      assert.match(wrong.body, /unauthorized: authentication required/, 'the engine read the credentials (an unreadable header says "no basic auth credentials") and the registry refused them');
      const right = await pull(engineRegistryAuth(registry.host, registry.credentials)!);
      assert.equal(right.status, 200);
      assert.doesNotMatch(right.body, /"error"/, right.body);
      assert.equal((await engineCall('GET', `/images/${encodeURIComponent(image)}/json`)).status, 200, 'the engine has the image');
    } finally {
      await engineCall('DELETE', `/images/${encodeURIComponent(image)}?force=1`);
    }
  });
});
