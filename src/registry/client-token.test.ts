/**
 * The Bearer token flow Docker Hub and GHCR use, against a real registry with its own token auth: it
 * verifies the RS256 JWTs a small token service (test/support/registry.ts) issues, so a token berth got
 * for the wrong scope, or none, is really refused.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { isBerthError } from '../errors/catalogue.ts';
import { registrySuite, startRegistry, type TestRegistry } from '../../test/support/registry.ts';
import { RegistryClient } from './client.ts';
import { parseReference } from './reference.ts';
import { registryContract } from './registry.contract.test-support.ts';

const suite = await registrySuite('token');

describe('a real registry with Bearer token auth', { skip: suite.skip }, () => {
  let registry: TestRegistry;
  let client: RegistryClient;
  before(async () => {
    registry = await startRegistry({ auth: 'token' });
    client = new RegistryClient({ timeoutMs: 10_000 });
  });
  after(async () => {
    client?.close();
    await registry?.stop();
  });

  registryContract('real client, Bearer tokens', { login: true }, () => ({
    port: client,
    domain: registry.host,
    push: (target) => registry.pushFresh(target),
    credentials: registry.credentials,
  }));

  test('a token is asked for the repository\'s pull scope with the credentials, then reused until it expires', async () => {
    const digest = await registry.pushFresh('tokens/app:1');
    let now = 1_000_000;
    const clocked = new RegistryClient({ now: () => now });
    const tokens = registry.tokens!;
    tokens.expiresIn = 120;
    const ref = parseReference(registry.ref('tokens/app:1'));
    const opts = { credentials: registry.credentials };
    try {
      const before = tokens.issued.length;
      assert.equal((await clocked.resolveDigest(ref, opts)).digest, digest);
      assert.deepEqual(tokens.issued.slice(before), [{ account: registry.credentials!.username, scopes: ['repository:tokens/app:pull'] }]);

      now += 60_000;
      assert.equal((await clocked.resolveDigest(ref, opts)).digest, digest);
      assert.equal(tokens.issued.length, before + 1, 'the cached token was used');

      now += 55_000; // 115 s after it was issued: within 10 s of its 120 s
      assert.equal((await clocked.resolveDigest(ref, opts)).digest, digest);
      assert.equal(tokens.issued.length, before + 2, 'a token about to expire is replaced');

      await clocked.resolveDigest(parseReference(registry.ref('tokens/app:1')), { credentials: undefined }).catch(() => undefined);
      assert.equal(tokens.issued.at(-1)!.account, undefined, 'anonymous callers never get the user\'s token');
    } finally {
      tokens.expiresIn = 300;
      clocked.close();
    }
  });

  test('the token service refusing the password is REGISTRY_AUTH_FAILED; the password is in no error', async () => {
    await registry.pushFresh('tokens/denied:1');
    const refusedBefore = registry.tokens!.refused;
    const password = 'not-the-password-9b1f';
    await assert.rejects(client.resolveDigest(parseReference(registry.ref('tokens/denied:1')), { credentials: { username: registry.credentials!.username, password } }), (error) => {
      assert.ok(isBerthError(error));
      assert.equal(error.code, 'REGISTRY_AUTH_FAILED');
      assert.match(error.message, /the user name or password is wrong \(its token service refused them\)/);
      assert.ok(!`${error.message}${error.hint}${error.stack}${JSON.stringify(error)}`.includes(password));
      return true;
    });
    assert.equal(registry.tokens!.refused, refusedBefore + 1);
  });

  test('anonymous: the registry refuses the token without access, told as a login to make', async () => {
    await registry.pushFresh('tokens/anon:1');
    const fresh = new RegistryClient();
    try {
      await assert.rejects(fresh.resolveDigest(parseReference(registry.ref('tokens/anon:1'))), (error) => {
        assert.ok(isBerthError(error));
        assert.equal(error.code, 'REGISTRY_AUTH_FAILED');
        assert.match(error.message, /it needs a login \(or the repository does not exist\)/);
        return true;
      });
    } finally {
      fresh.close();
    }
  });

  test('the login check gets a token for the service with no scope and uses it on /v2/', async () => {
    const before = registry.tokens!.issued.length;
    await client.verify(registry.host, registry.credentials!);
    await client.verify(registry.host, registry.credentials!);
    const asked = registry.tokens!.issued.slice(before);
    assert.equal(asked.length, 2, 'a login check never uses a cached token');
    assert.deepEqual(asked[0], { account: registry.credentials!.username, scopes: [] });
  });
});
