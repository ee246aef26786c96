import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createSealer } from '../secrets/sealer.ts';
import { checkCredentials, credentialLookup, credentialsFor, engineRegistryAuth, openCredentials, sealCredentials } from './credentials.ts';
import { parseReference } from './reference.ts';

const sealer = createSealer(randomBytes(32));
const decode = (header: string) => JSON.parse(Buffer.from(header, 'base64url').toString('utf8')) as Record<string, string>;

test('checkCredentials: what a login may hold; the password is never quoted', () => {
  assert.deepEqual({ ...checkCredentials({ username: 'octo', password: 'p:w d\n{"json":"key"}' }) }, { username: 'octo', password: 'p:w d\n{"json":"key"}' });
  const refused: [unknown, unknown, RegExp][] = [
    ['', 'p', /user name is empty/],
    [undefined, 'p', /user name is empty/],
    ['a:b', 'p', /contains ":"/],
    ['a\nb', 'p', /control character/],
    ['u'.repeat(257), 'p', /longer than 256/],
    ['u', '', /password is empty/],
    ['u', 42, /password is empty/],
    ['u', 'x'.repeat(16 * 1024 + 1), /longer than 16384/],
    ['u', 'sec\0ret', /NUL/],
  ];
  for (const [username, password, reason] of refused) {
    assert.throws(() => checkCredentials({ username, password }), (error: Error & { code?: string }) => {
      assert.equal(error.code, 'REGISTRY_CREDENTIALS_INVALID');
      assert.match(error.message, reason);
      if (typeof password === 'string' && password.length > 3) assert.ok(!error.message.includes(password));
      return true;
    });
  }
});

test('sealed at rest, opened back; the host normalized', () => {
  const sealed = sealCredentials(sealer, 'https://index.docker.io/v1/', { username: 'octo', password: 'hunter2-token' });
  assert.equal(sealed.host, 'docker.io');
  assert.ok(!sealed.passwordSealed.includes('hunter2'));
  assert.deepEqual({ ...openCredentials(sealer, sealed) }, { username: 'octo', password: 'hunter2-token' });
});

test('the lookup finds a login under any spelling of the image\'s registry', () => {
  const rows = new Map([
    ['docker.io', sealCredentials(sealer, 'docker.io', { username: 'hub', password: 'h' })],
    ['ghcr.io', sealCredentials(sealer, 'ghcr.io', { username: 'gh', password: 'g' })],
  ]);
  const lookup = credentialLookup({ get: (host) => rows.get(host) }, sealer);
  assert.equal(credentialsFor(parseReference('redis:7'), lookup)?.username, 'hub');
  assert.equal(credentialsFor(parseReference('index.docker.io/acme/app'), lookup)?.username, 'hub');
  assert.equal(credentialsFor(parseReference('GHCR.io/acme/app:1'), lookup)?.password, 'g');
  assert.equal(credentialsFor(parseReference('quay.io/acme/app:1'), lookup), undefined);
});

test('X-Registry-Auth: padded base64url JSON {username, password, serveraddress}, as the docker CLI writes it', () => {
  // A password whose base64 has "+", "/" and padding: the URL-safe alphabet, padding kept (engine 20.10 needs it).
  const credentials = { username: 'octo', password: '>>>???~~~' };
  const header = engineRegistryAuth('127.0.0.1:5055', credentials)!;
  assert.match(header, /^[A-Za-z0-9_-]+=*$/);
  assert.equal(header.length % 4, 0);
  assert.deepEqual(decode(header), { username: 'octo', password: '>>>???~~~', serveraddress: '127.0.0.1:5055' });
  assert.equal(decode(engineRegistryAuth('index.docker.io', credentials)!).serveraddress, 'https://index.docker.io/v1/');
  assert.equal(engineRegistryAuth('ghcr.io', undefined), undefined, 'anonymous: no header');
});
