/**
 * checkOwnCertificate against certificates the real openssl made (./own-certs.test-support.ts): what a
 * good chain gives, and each way a chain or key can be wrong getting its own code and a message that
 * says what is wrong without quoting the files.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, X509Certificate } from 'node:crypto';
import { isBerthError, type ErrorCode } from '../errors/catalogue.ts';
import { certificateDomain, checkOwnCertificate, OWN_CERT_LIMITS } from './own-certificate.ts';
import { makeCertFactory } from './own-certs.test-support.ts';

const certs = makeCertFactory();
after(() => certs.close());

const DAY = 86_400_000;
const now = Date.now();
const shop = certs.leaf({ hosts: ['shop.example.com', 'www.shop.example.com'] });
const wildcard = certs.leaf({ hosts: ['*.example.com'] });

/** Asserts the check fails with `code` and a message matching `message`, quoting nothing base64 from the files. */
function refuses(input: { domain?: string; certPem: string; keyPem: string }, code: ErrorCode, message: RegExp, at = now): { message: string; hint?: string } {
  try {
    checkOwnCertificate({ domain: 'shop.example.com', ...input }, at);
  } catch (error) {
    assert.ok(isBerthError(error), String(error));
    assert.equal(error.code, code, error.message);
    assert.match(error.message, message);
    for (const text of [error.message, error.hint ?? '']) assert.ok(!/[A-Za-z0-9+/]{40}/.test(text), `base64 from a file in: ${text}`);
    return { message: error.message, hint: error.hint };
  }
  assert.fail(`expected ${code}`);
}

test('a leaf with its intermediate: issuer, dates, names, and the chain and key as normalized PEM', () => {
  const messy = `Bag Attributes\n  friendlyName: shop\nsubject=CN = shop.example.com\n${certs.chainOf(shop).replace(/\n/g, '\r\n')}\ntrailing words\n`;
  const own = checkOwnCertificate({ domain: 'Shop.Example.com.', certPem: messy, keyPem: shop.keyPem }, now);
  assert.equal(own.domain, 'shop.example.com');
  assert.equal(own.issuer, 'Berth Test Intermediate');
  assert.deepEqual(own.names, ['shop.example.com', 'www.shop.example.com']);
  const leaf = new X509Certificate(shop.certPem);
  assert.equal(own.notBefore, leaf.validFromDate.getTime());
  assert.equal(own.notAfter, leaf.validToDate.getTime());
  assert.equal(own.chainPem.match(/-----BEGIN CERTIFICATE-----/g)?.length, 2);
  assert.ok(!/Bag|subject=|trailing|\r/.test(own.chainPem), own.chainPem);
  assert.equal(new X509Certificate(own.chainPem).fingerprint256, leaf.fingerprint256, 'the leaf comes first');
  assert.match(own.keyPem, /^-----BEGIN PRIVATE KEY-----\n[\s\S]+-----END PRIVATE KEY-----\n$/);
});

test('the leaf alone, or with the root after the intermediate, is fine too; so is a traditional RSA key', () => {
  assert.equal(checkOwnCertificate({ domain: 'shop.example.com', certPem: shop.certPem, keyPem: shop.keyPem }, now).issuer, 'Berth Test Intermediate');
  const full = certs.chainOf(shop) + certs.root.certPem;
  assert.equal(checkOwnCertificate({ domain: 'www.shop.example.com', certPem: full, keyPem: shop.keyPem }, now).chainPem.match(/BEGIN CERTIFICATE/g)?.length, 3);
  const rsa = certs.leaf({ hosts: ['rsa.example.com'], rsaBits: 2048, issuer: 'root' });
  const own = checkOwnCertificate({ domain: 'rsa.example.com', certPem: rsa.certPem, keyPem: rsa.keyPem }, now);
  assert.equal(own.issuer, 'Berth Test Root');
  assert.match(own.keyPem, /^-----BEGIN PRIVATE KEY-----/, 'PKCS#8 whatever form it came in');
});

test('a wildcard certificate covers the wildcard domain and one label under it, not two', () => {
  const input = { certPem: certs.chainOf(wildcard), keyPem: wildcard.keyPem };
  assert.equal(checkOwnCertificate({ domain: '*.example.com', ...input }, now).domain, '*.example.com');
  assert.equal(checkOwnCertificate({ domain: 'a.example.com', ...input }, now).domain, 'a.example.com');
  refuses({ domain: 'a.b.example.com', ...input }, 'CERT_NAME_MISMATCH', /not for a\.b\.example\.com: it covers \*\.example\.com/);
  refuses({ domain: 'example.com', ...input }, 'CERT_NAME_MISMATCH', /not for example\.com/);
});

test('a wildcard domain needs a wildcard certificate: one for a single name under it does not cover it', () => {
  const { hint } = refuses({ domain: '*.shop.example.com', certPem: certs.chainOf(shop), keyPem: shop.keyPem }, 'CERT_NAME_MISMATCH', /not for \*\.shop\.example\.com: it covers shop\.example\.com, www\.shop\.example\.com/);
  assert.match(hint ?? '', /wildcard certificate \(subjectAltName DNS:\*\.shop\.example\.com\)/);
});

test('wrong name; a name only in the common name (browsers ignore it)', () => {
  refuses({ domain: 'other.example.com', certPem: certs.chainOf(shop), keyPem: shop.keyPem }, 'CERT_NAME_MISMATCH', /not for other\.example\.com: it covers shop\.example\.com/);
  const cnOnly = certs.leaf({ hosts: [], commonName: 'legacy.example.com' });
  refuses({ domain: 'legacy.example.com', certPem: certs.chainOf(cnOnly), keyPem: cnOnly.keyPem }, 'CERT_NAME_MISMATCH', /only in its subject's common name/);
});

test('a domain that is no DNS name is refused before anything is parsed', () => {
  for (const domain of ['localhost', '1.2.3.4', 'a b.example.com', 'https://shop.example.com/', '', '*.*.example.com', `${'a'.repeat(250)}.com`]) {
    assert.throws(() => certificateDomain(domain), (e) => isBerthError(e) && e.code === 'CERT_DOMAIN_INVALID', domain);
  }
  assert.equal(certificateDomain('WWW.Example.COM.'), 'www.example.com');
});

test('garbage where the certificate goes', () => {
  const key = shop.keyPem;
  refuses({ certPem: '', keyPem: key }, 'CERT_INVALID', /holds no PEM block/);
  refuses({ certPem: 'hello world', keyPem: key }, 'CERT_INVALID', /holds no PEM block/);
  refuses({ certPem: '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n', keyPem: key }, 'CERT_INVALID', /certificate 1 of the file is not a valid X\.509 certificate/);
  refuses({ certPem: shop.certPem.slice(0, 300), keyPem: key }, 'CERT_INVALID', /certificate 1 of the file is not a valid/);
  refuses({ certPem: shop.certPem + '-----BEGIN CERTIFICATE-----\n' + Buffer.alloc(600, 7).toString('base64') + '\n-----END CERTIFICATE-----\n', keyPem: key }, 'CERT_INVALID', /certificate 2 of the file/);
  refuses({ certPem: shop.certPem + shop.keyPem, keyPem: key }, 'CERT_INVALID', /holds a private key: give the key with --key/);
  refuses({ certPem: `-----BEGIN X509 CRL-----\nAAAA\n-----END X509 CRL-----\n${shop.certPem}`, keyPem: key }, 'CERT_INVALID', /holds a "X509 CRL" block/);
  refuses({ certPem: ' '.repeat(OWN_CERT_LIMITS.chainBytes) + shop.certPem, keyPem: key }, 'CERT_INVALID', /larger than 64 KiB/);
  refuses({ certPem: shop.certPem.repeat(OWN_CERT_LIMITS.chainCertificates + 1), keyPem: key }, 'CERT_INVALID', /more than 10 certificates/);
});

test('garbage where the key goes; the certificate given twice', () => {
  const certPem = certs.chainOf(shop);
  refuses({ certPem, keyPem: '' }, 'CERT_KEY_INVALID', /holds no PEM block, not a private key/);
  refuses({ certPem, keyPem: 'not a key' }, 'CERT_KEY_INVALID', /holds no PEM block/);
  refuses({ certPem, keyPem: shop.certPem }, 'CERT_KEY_INVALID', /holds a "CERTIFICATE" block, not a private key/);
  refuses({ certPem, keyPem: '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n' }, 'CERT_KEY_INVALID', /could not be read/);
  refuses({ certPem, keyPem: shop.keyPem + wildcard.keyPem }, 'CERT_KEY_INVALID', /more than one private key/);
  refuses({ certPem, keyPem: ' '.repeat(OWN_CERT_LIMITS.keyBytes) + shop.keyPem }, 'CERT_KEY_INVALID', /larger than 64 KiB/);
});

test('an encrypted key, in either PEM form, is refused with the command that decrypts it', () => {
  for (const form of ['pkcs8', 'traditional'] as const) {
    const { hint } = refuses({ certPem: certs.chainOf(shop), keyPem: certs.encrypt(shop.keyPem, form) }, 'CERT_KEY_ENCRYPTED', /encrypted with a passphrase/);
    assert.match(hint ?? '', /`openssl pkey -in key\.pem -out plain\.pem`/);
  }
});

test('a key that belongs to another certificate', () => {
  refuses({ certPem: certs.chainOf(shop), keyPem: wildcard.keyPem }, 'CERT_KEY_MISMATCH', /does not belong to the certificate \(shop\.example\.com\)/);
  const stranger = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  refuses({ certPem: certs.chainOf(shop), keyPem: stranger }, 'CERT_KEY_MISMATCH', /does not belong/);
});

test('expired, not yet valid, and an intermediate that expires before its leaf', () => {
  const expired = certs.leaf({ hosts: ['shop.example.com'], notBefore: new Date(now - 100 * DAY), notAfter: new Date(now - DAY), issuer: 'self' });
  const { hint } = refuses({ certPem: expired.certPem, keyPem: expired.keyPem }, 'CERT_EXPIRED', /^the certificate expired at 20\d\d-/);
  assert.match(hint ?? '', /berth certs remove DOMAIN/);
  const early = certs.leaf({ hosts: ['shop.example.com'], notBefore: new Date(now + 10 * DAY), notAfter: new Date(now + 100 * DAY) });
  refuses({ certPem: certs.chainOf(early), keyPem: early.keyPem }, 'CERT_NOT_YET_VALID', /^the certificate is not valid before 20\d\d-/);
  // The intermediate lives 3000 days; at day 3500 this leaf is still valid, its issuer is not.
  const long = certs.leaf({ hosts: ['shop.example.com'], notAfter: new Date(now + 4000 * DAY) });
  refuses({ certPem: certs.chainOf(long), keyPem: long.keyPem }, 'CERT_EXPIRED', /^certificate 2 of the chain \(Berth Test Intermediate\) expired/, now + 3500 * DAY);
  // The same pair checked at a time it is valid: the dates come from `now`, not the machine's clock.
  assert.equal(checkOwnCertificate({ domain: 'shop.example.com', certPem: expired.certPem, keyPem: expired.keyPem }, now - 50 * DAY).domain, 'shop.example.com');
});

test('a chain out of order, and one with a certificate that does not belong', () => {
  const key = shop.keyPem;
  refuses({ certPem: certs.intermediate.certPem + shop.certPem, keyPem: key }, 'CERT_CHAIN_ORDER', /the key belongs to certificate 2 of the file \(shop\.example\.com\), but the server's own certificate must come first/);
  refuses({ certPem: shop.certPem + certs.root.certPem + certs.intermediate.certPem, keyPem: key }, 'CERT_CHAIN_ORDER', /certificate 1 \(shop\.example\.com\) was issued by certificate 3, which must come right after it/);
  const other = certs.leaf({ hosts: ['elsewhere.example.com'], issuer: 'self' });
  refuses({ certPem: shop.certPem + other.certPem, keyPem: key }, 'CERT_CHAIN_INVALID', /certificate 2 \(elsewhere\.example\.com\) did not issue certificate 1 \(shop\.example\.com\)/);
  // Signed by the root, sent with the intermediate: names alone would not tell, the signature does.
  const byRoot = certs.leaf({ hosts: ['shop.example.com'], issuer: 'root' });
  refuses({ certPem: certs.chainOf(byRoot), keyPem: byRoot.keyPem }, 'CERT_CHAIN_INVALID', /did not issue certificate 1/);
});

test('what OpenSSL would refuse to serve: an RSA key of 1024 bits', () => {
  const weak = certs.leaf({ hosts: ['shop.example.com'], rsaBits: 1024, issuer: 'self' });
  refuses({ certPem: weak.certPem, keyPem: weak.keyPem }, 'CERT_UNUSABLE', /ee key too small/);
});

test('hostile text is refused fast: 55 KiB of BEGIN lines, a block that never ends', () => {
  const started = performance.now();
  refuses({ certPem: '-----BEGIN '.repeat(5000), keyPem: shop.keyPem }, 'CERT_INVALID', /no PEM block/);
  refuses({ certPem: '-----BEGIN CERTIFICATE-----'.repeat(2000), keyPem: shop.keyPem }, 'CERT_INVALID', /.*/);
  assert.ok(performance.now() - started < 1000, `${performance.now() - started} ms`);
});
