import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { credentialLookup, sealCredentials } from '../registry/credentials.ts';
import { createSealer } from '../secrets/sealer.ts';
import { Store } from './store.ts';

test('registry logins round-trip with the password sealed: absent from every file of the store', () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-store-registry-'));
  const path = join(dir, 'berth.db');
  const sealer = createSealer(randomBytes(32));
  const password = `ghp_${randomBytes(18).toString('hex')}`;
  try {
    const store = new Store(path);
    store.registryCredentials.save(sealCredentials(sealer, 'ghcr.io', { username: 'octo', password }), 1_000);
    store.registryCredentials.save(sealCredentials(sealer, 'index.docker.io', { username: 'hub', password: 'first' }), 2_000);
    store.registryCredentials.save(sealCredentials(sealer, 'docker.io', { username: 'hub2', password: 'second' }), 3_000);

    assert.deepEqual(store.registryCredentials.list(), [
      { host: 'docker.io', username: 'hub2', createdAt: 2_000, updatedAt: 3_000 },
      { host: 'ghcr.io', username: 'octo', createdAt: 1_000, updatedAt: 1_000 },
    ]);
    const lookup = credentialLookup(store.registryCredentials, sealer);
    assert.deepEqual({ ...lookup('ghcr.io')! }, { username: 'octo', password });
    assert.deepEqual({ ...lookup('registry-1.docker.io')! }, { username: 'hub2', password: 'second' }, 'a second login replaces the first');
    assert.equal(lookup('quay.io'), undefined);

    // Written through to the files (WAL included), then looked for in every byte.
    store.db.sqlite.exec('PRAGMA wal_checkpoint(FULL)');
    const bytes = () => Buffer.concat(readdirSync(dir).map((name) => readFileSync(join(dir, name))));
    assert.ok(bytes().includes(Buffer.from('octo')), 'the user name is stored');
    assert.ok(!bytes().includes(Buffer.from(password)), 'the password is not');
    assert.ok(!bytes().includes(Buffer.from(password.slice(4))));

    assert.equal(store.registryCredentials.remove('ghcr.io'), true);
    assert.equal(store.registryCredentials.remove('ghcr.io'), false);
    assert.equal(store.registryCredentials.get('ghcr.io'), undefined);
    store.close();

    const reopened = new Store(path);
    assert.deepEqual(reopened.registryCredentials.list().map((l) => l.host), ['docker.io']);
    reopened.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
