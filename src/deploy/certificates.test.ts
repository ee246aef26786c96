/**
 * The certificate use cases over the deploy kit (a real SQLite store, the fake runtime): an own certificate
 * checked, then stored with its key sealed, replacing an ACME one; a refused one saves nothing; listing,
 * removing and renewing, with the manager woken after each change. No key, not even sealed, in what they return.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { isBerthError, type ErrorCode } from '../errors/catalogue.ts';
import { ManualClock } from '../lib/clock.ts';
import type { CertificateRecord } from '../model/records.ts';
import { makeCertFactory, type CertFactory, type PemPair } from '../certs/own-certs.test-support.ts';
import { addOwnCertificate, getCertificate, listCertificates, removeCertificate, renewCertificate, type CertificatesContext } from './certificates.ts';
import { startKit, type Kit } from './kit.test-support.ts';

let kit: Kit;
let certs: CertFactory;
let shop: PemPair;
let ctx: CertificatesContext;
let clock: ManualClock;
let wakes = 0;

before(async () => {
  kit = await startKit();
  certs = makeCertFactory();
  shop = certs.leaf({ hosts: ['shop.example.com'] });
  clock = new ManualClock(Date.now());
  ctx = { ...kit.ctx, clock, certificates: { wake: () => void wakes++ } };
});
after(async () => {
  certs?.close();
  await kit?.close();
});

const upload = (pair: PemPair, domain = 'shop.example.com') => ({ domain, cert: certs.chainOf(pair), key: pair.keyPem });
const stored = () => kit.ctx.store.certificates.list().map((r) => `${r.domain} ${r.source}`);

/** An ACME certificate as the manager keeps it (issued, or failing). */
function acmeRecord(domain: string, fields: Partial<CertificateRecord> = {}): CertificateRecord {
  const now = clock.now();
  return {
    domain, source: 'acme', app: 'shop', status: 'issued', certPem: '(chain)', keySealed: kit.ctx.sealer.seal('acme key'), issuer: 'Pebble Intermediate',
    notBefore: now - 1000, notAfter: now + 90 * 86_400_000, renewAt: now + 60 * 86_400_000, lastError: null, attempts: 0, nextAttemptAt: null,
    createdAt: now - 1000, updatedAt: now - 1000, ...fields,
  };
}

function throwsCode(fn: () => unknown, code: ErrorCode): void {
  assert.throws(fn, (error) => isBerthError(error) && error.code === code, code);
}

describe('own certificates', () => {
  test('added: stored with the key sealed, the manager woken; what comes back has no key', () => {
    const before = wakes;
    const { certificate, replaced } = addOwnCertificate(ctx, upload(shop, 'Shop.Example.com'));
    assert.equal(replaced, null);
    assert.equal(wakes, before + 1);
    assert.deepEqual(
      { domain: certificate.domain, source: certificate.source, status: certificate.status, issuer: certificate.issuer, app: certificate.app, renewAt: certificate.renewAt },
      { domain: 'shop.example.com', source: 'own', status: 'issued', issuer: 'Berth Test Intermediate', app: null, renewAt: null },
    );
    assert.ok(!('keySealed' in certificate));
    const row = kit.ctx.store.certificates.get('shop.example.com')!;
    assert.ok(row.keySealed && !row.keySealed.includes('PRIVATE KEY'));
    assert.match(kit.ctx.sealer.open(row.keySealed), /^-----BEGIN PRIVATE KEY-----/, 'what the manager opens is the key, as PKCS#8');
    assert.equal(row.certPem, certificate.certPem);
  });

  test('a refused certificate saves nothing and wakes nobody, and leaves the stored one as it was', () => {
    const before = kit.ctx.store.certificates.get('shop.example.com');
    const wokenBefore = wakes;
    const other = certs.leaf({ hosts: ['other.example.com'] });
    throwsCode(() => addOwnCertificate(ctx, upload(other)), 'CERT_NAME_MISMATCH');
    throwsCode(() => addOwnCertificate(ctx, { ...upload(shop), key: other.keyPem }), 'CERT_KEY_MISMATCH');
    throwsCode(() => addOwnCertificate(ctx, upload(other, 'not a domain')), 'CERT_DOMAIN_INVALID');
    assert.deepEqual(kit.ctx.store.certificates.get('shop.example.com'), before);
    assert.deepEqual(stored(), ['shop.example.com own']);
    assert.equal(wakes, wokenBefore);
  });

  test('an own certificate replaces an ACME one for the domain (a wildcard ACME cannot get, say)', () => {
    kit.ctx.store.certificates.save(acmeRecord('*.example.com', { status: 'failed', certPem: null, keySealed: null, lastError: { code: 'ACME_WILDCARD', message: 'no wildcards over HTTP-01' }, attempts: 1 }));
    const wildcard = certs.leaf({ hosts: ['*.example.com'] });
    clock.advance(1000);
    const { certificate, replaced } = addOwnCertificate(ctx, upload(wildcard, '*.example.com'));
    assert.equal(replaced, 'acme');
    assert.deepEqual(
      { source: certificate.source, status: certificate.status, lastError: certificate.lastError, attempts: certificate.attempts, app: certificate.app },
      { source: 'own', status: 'issued', lastError: null, attempts: 0, app: null },
    );
    assert.ok(certificate.createdAt < certificate.updatedAt, 'the row keeps its creation time');
  });
});

describe('list, get, remove, renew', () => {
  test('list: by domain, no keys; an own certificate shows the app whose domains list it', async () => {
    kit.ctx.store.certificates.save(acmeRecord('acme.test'));
    await deployWithDomains('shop', ['shop.example.com', 'acme.test', 'failing.test', 'a.example.com', '*.wild.test']);
    const list = listCertificates(ctx);
    assert.deepEqual(list.map((c) => `${c.domain} ${c.source} ${c.app}`), ['*.example.com own null', 'acme.test acme shop', 'shop.example.com own shop']);
    for (const info of list) assert.ok(!('keySealed' in info) && !JSON.stringify(info).includes('v1.'), JSON.stringify(info));
    assert.equal(getCertificate(ctx, 'SHOP.example.com').domain, 'shop.example.com');
    throwsCode(() => getCertificate(ctx, 'none.example.com'), 'CERT_NOT_FOUND');
    throwsCode(() => getCertificate(ctx, '../etc'), 'CERT_DOMAIN_INVALID');
  });

  test('renew: an ACME certificate becomes due now and the manager is woken', () => {
    clock.advance(5000);
    const before = wakes;
    const renewed = renewCertificate(ctx, 'acme.test');
    assert.equal(wakes, before + 1);
    assert.equal(renewed.renewAt, clock.now());
    assert.equal(renewed.nextAttemptAt, clock.now());
    assert.equal(renewed.certPem, '(chain)', 'the old certificate keeps serving until the new one is issued');
    assert.equal(kit.ctx.store.certificates.get('acme.test')!.renewAt, clock.now());
    // A failing one is tried again now; it has no certificate to renew, so its renewal time stays.
    kit.ctx.store.certificates.save(acmeRecord('failing.test', { status: 'failed', certPem: null, keySealed: null, renewAt: null, nextAttemptAt: clock.now() + 3_600_000, attempts: 3 }));
    const retried = renewCertificate(ctx, 'failing.test');
    assert.deepEqual([retried.renewAt, retried.nextAttemptAt, retried.attempts], [null, clock.now(), 3]);
    assert.equal(wakes, before + 2);
  });

  test('renew is refused, saying why, where the manager would ask ACME nothing: nothing changes', () => {
    const unlisted = acmeRecord('gone.test');
    const wildcard = acmeRecord('*.wild.test', { status: 'failed', certPem: null, keySealed: null, lastError: { code: 'ACME_WILDCARD', message: 'no wildcards over HTTP-01' } });
    // Listed, but the own *.example.com covers it: the manager leaves it alone.
    const covered = acmeRecord('a.example.com');
    for (const record of [unlisted, wildcard, covered]) kit.ctx.store.certificates.save(record);
    const before = wakes;
    const cases: [string, string, RegExp][] = [
      ['shop.example.com', 'own', /is your own: berth renews only the certificates it gets from ACME/],
      ['gone.test', 'unlisted', /no app lists gone\.test under `domains` any more/],
      ['*.wild.test', 'wildcard', /is a wildcard, which ACME cannot validate over HTTP-01/],
      ['a.example.com', 'covered', /your own certificate covers a\.example\.com/],
    ];
    for (const [domain, why, message] of cases) {
      assert.throws(() => renewCertificate(ctx, domain), (e) => isBerthError(e) && e.code === 'CERT_NOT_RENEWABLE' && message.test(e.message), `${domain}: ${why}`);
    }
    throwsCode(() => renewCertificate(ctx, 'none.test'), 'CERT_NOT_FOUND');
    const withoutManager: CertificatesContext = { ...kit.ctx, clock };
    assert.throws(() => renewCertificate(withoutManager, 'acme.test'), (e) => isBerthError(e) && e.code === 'CERT_NOT_RENEWABLE' && /runs without HTTPS/.test(e.message));
    assert.equal(wakes, before);
    for (const record of [unlisted, wildcard, covered]) {
      assert.deepEqual(kit.ctx.store.certificates.get(record.domain), record);
      kit.ctx.store.certificates.remove(record.domain);
    }
  });

  test('remove: which app still lists the domain, and whether ACME is asked for it now; a second remove finds nothing', () => {
    const before = wakes;
    // The own *.example.com still covers shop.example.com: ACME is not asked.
    assert.deepEqual(removeCertificate(ctx, 'shop.example.com'), { domain: 'shop.example.com', source: 'own', listedBy: 'shop', acme: false });
    assert.deepEqual(removeCertificate(ctx, 'acme.test'), { domain: 'acme.test', source: 'acme', listedBy: 'shop', acme: true });
    assert.deepEqual(removeCertificate(ctx, '*.example.com'), { domain: '*.example.com', source: 'own', listedBy: null, acme: false });
    assert.equal(wakes, before + 3);
    throwsCode(() => removeCertificate(ctx, 'shop.example.com'), 'CERT_NOT_FOUND');
    assert.deepEqual(stored(), ['failing.test acme']);
  });

  test('without a manager (a daemon that runs none) the store still changes', () => {
    const alone: CertificatesContext = { ...kit.ctx, clock };
    addOwnCertificate(alone, upload(shop));
    assert.deepEqual(stored(), ['failing.test acme', 'shop.example.com own']);
    removeCertificate(alone, 'shop.example.com');
  });
});

async function deployWithDomains(app: string, domains: string[]): Promise<void> {
  const yaml = `name: ${app}\nhealth:\n  path: /health\n  interval: 100ms\n  healthy_after: 1\ndomains:\n${domains.map((d) => `  - '${d}'\n`).join('')}`;
  kit.deployer.start({ app, kind: 'deploy', description: 'test', wait: true, source: kit.source(yaml) });
  await kit.deployer.idle(app);
  assert.ok(kit.ctx.store.apps.get(app)?.currentRelease, 'the app has a serving release');
}
