import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeRegistry } from './fake.test-support.ts';
import { parseReference } from './reference.ts';
import { registryContract } from './registry.contract.test-support.ts';

const open = new FakeRegistry();
registryContract('fake, open', { login: false }, () => ({ port: open, domain: 'registry.test', push: async (target) => open.push(`registry.test/${target}`), credentials: undefined }));

const secured = new FakeRegistry();
const credentials = { username: 'u', password: 'p' };
secured.requireLogin('private.test', credentials);
registryContract('fake, with a login', { login: true }, () => ({ port: secured, domain: 'private.test', push: async (target) => secured.push(`private.test/${target}`), credentials }));

test('a broken registry fails every call until repaired; calls are counted', async () => {
  const fake = new FakeRegistry();
  fake.push('ghcr.io/acme/app:1');
  fake.breakRegistry('ghcr.io');
  await assert.rejects(fake.resolveDigest(parseReference('ghcr.io/acme/app:1')), { code: 'REGISTRY_UNREACHABLE' });
  fake.repair('ghcr.io');
  await fake.resolveDigest(parseReference('ghcr.io/acme/app:1'));
  assert.deepEqual(fake.calls, ['ghcr.io/acme/app:1', 'ghcr.io/acme/app:1']);
});
