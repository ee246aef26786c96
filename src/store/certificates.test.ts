import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CertificateRecord } from '../model/records.ts';
import { Store } from './store.ts';

const record = (domain: string, over: Partial<CertificateRecord> = {}): CertificateRecord => ({
  domain,
  source: 'acme',
  app: 'shop',
  status: 'issued',
  certPem: '-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----\n',
  keySealed: 'sealed',
  issuer: 'Test CA',
  notBefore: 1,
  notAfter: 3,
  renewAt: 2,
  lastError: { code: 'ACME_DNS', message: 'earlier' },
  attempts: 2,
  nextAttemptAt: 5,
  createdAt: 10,
  updatedAt: 11,
  ...over,
});

test('certificates: one row per domain, saved whole (upsert keeps the creation time), listed by domain, removed', () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-store-'));
  const path = join(dir, 'berth.db');
  try {
    const store = new Store(path);
    store.certificates.save(record('www.shop.test'));
    store.certificates.save(record('*.shop.test', { source: 'own', app: null, lastError: null, renewAt: null, nextAttemptAt: null, attempts: 0 }));
    assert.deepEqual(store.certificates.get('www.shop.test'), record('www.shop.test'));
    store.certificates.save(record('www.shop.test', { status: 'failed', certPem: null, keySealed: null, createdAt: 99, updatedAt: 20 }));
    assert.deepEqual(store.certificates.get('www.shop.test'), record('www.shop.test', { status: 'failed', certPem: null, keySealed: null, createdAt: 10, updatedAt: 20 }));
    assert.deepEqual(store.certificates.list().map((c) => [c.domain, c.source]), [['*.shop.test', 'own'], ['www.shop.test', 'acme']]);
    store.close();
    const again = new Store(path);
    assert.equal(again.certificates.list().length, 2, 'kept across a reopen');
    assert.equal(again.certificates.remove('www.shop.test'), true);
    assert.equal(again.certificates.remove('www.shop.test'), false);
    assert.equal(again.certificates.get('www.shop.test'), undefined);
    // The ACME account belongs to its directory: another directory has none yet.
    again.acmeAccounts.save({ directory: 'https://ca.test/dir', keySealed: 'k', url: null, email: null, createdAt: 1, updatedAt: 1 });
    again.acmeAccounts.save({ directory: 'https://ca.test/dir', keySealed: 'k', url: 'https://ca.test/acct/1', email: 'a@b.test', createdAt: 5, updatedAt: 2 });
    assert.deepEqual(again.acmeAccounts.get('https://ca.test/dir'), { directory: 'https://ca.test/dir', keySealed: 'k', url: 'https://ca.test/acct/1', email: 'a@b.test', createdAt: 1, updatedAt: 2 });
    assert.equal(again.acmeAccounts.get('https://other.test/dir'), undefined);
    again.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
