import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { makeTestCa, tlsCertificate } from '../../test/support/tls-certs.ts';
import { certificateSetProblems, CERTIFICATE_SET_LIMITS, isCertificateHost } from './validate-certificates.ts';
import { challengeProblems } from './validate-challenges.ts';

const ca = makeTestCa();
const a = ca.issue(['a.test', 'www.a.test']);
const wild = ca.issue(['*.w.test']);
const rsa = ca.issue(['r.test'], { rsa: true });
const setOf = (...certificates: unknown[]) => ({ generation: 3, certificates });
const good = tlsCertificate('a', ['a.test', 'www.a.test'], a);

test('a sound set has no problems: exact names, a wildcard, EC and RSA keys', () => {
  assert.deepEqual(certificateSetProblems(setOf(good, tlsCertificate('w', ['*.w.test'], wild), tlsCertificate('r', ['r.test'], rsa))), []);
  assert.deepEqual(certificateSetProblems(setOf()), [], 'an empty set is a set');
});

test('host names: lowercase DNS names, a wildcard covers one label only', () => {
  for (const ok of ['a.test', 'localhost', '*.example.com', 'x-1.y2.example', `${'a'.repeat(63)}.test`]) assert.ok(isCertificateHost(ok), ok);
  for (const bad of ['A.test', '*.*.example.com', 'a.*.example.com', '*example.com', 'a..test', '-a.test', 'a-.test', 'a b.test', 'a.test:443', '', `${'a'.repeat(64)}.test`, 'ä.test', 42]) {
    assert.ok(!isCertificateHost(bad), String(bad));
  }
});

test('each problem names its field and says what to send', () => {
  const cases: [unknown, RegExp][] = [
    [null, /must be an object \{ generation, certificates \}/],
    [{ generation: -1, certificates: [] }, /^generation must be a non-negative integer$/],
    [{ generation: 1, certificates: {} }, /^certificates must be a list$/],
    [setOf('x'), /^certificates\[0\] must be an object/],
    [setOf({ ...good, id: '' }), /^certificates\[0\]\.id must be 1 to 200 printable/],
    [setOf({ ...good, id: 'a b' }), /^certificates\[0\]\.id must be/],
    [setOf(good, { ...good }), /^certificates\[1\]\.id "a" repeats certificates\[0\]\.id/],
    [setOf({ ...good, notAfter: 'soon' }), /^certificates\[0\]\.notAfter must be a time in ms/],
    [setOf({ ...good, hosts: [] }), /^certificates\[0\]\.hosts must be a list of 1 to 100 host names$/],
    [setOf({ ...good, hosts: ['A.test'] }), /^certificates\[0\]\.hosts\[0\] "A.test" is not a lowercase host name/],
    [setOf({ ...good, certPem: 'hello' }), /^certificates\[0\]\.certPem must be a PEM certificate chain/],
    [setOf({ ...good, certPem: '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n' }), /^certificates\[0\]\.certPem is not a certificate node:crypto can read/],
    [setOf({ ...good, keyPem: 42 }), /^certificates\[0\]\.keyPem must be a PEM private key/],
    [setOf({ ...good, keyPem: '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n' }), /^certificates\[0\]\.keyPem is not a private key node:crypto can read: send it unencrypted/],
    [setOf({ ...good, keyPem: wild.keyPem }), /^certificates\[0\]\.keyPem is not the key of certificates\[0\]\.certPem/],
    [setOf({ ...good, keyPem: rsa.keyPem }), /^certificates\[0\]\.keyPem is not the key of/],
    [setOf({ ...good, hosts: ['b.test'] }), /^certificates\[0\]\.certPem does not cover b\.test: its names are DNS:a\.test, DNS:www\.a\.test$/],
    [setOf({ ...good, hosts: ['*.a.test'] }), /^certificates\[0\]\.certPem does not cover \*\.a\.test/],
    [setOf(tlsCertificate('w', ['x.y.w.test'], wild)), /does not cover x\.y\.w\.test/],
  ];
  for (const [set, expected] of cases) {
    const problems = certificateSetProblems(set);
    assert.equal(problems.length, 1, `${JSON.stringify(problems)} for ${expected}`);
    assert.match(problems[0], expected);
    assert.doesNotMatch(problems[0], /BEGIN|PRIVATE KEY-----/, 'no PEM in a problem');
  }
});

test('an encrypted key is refused, and its passphrase never asked for', () => {
  const encrypted = execFileSync('openssl', ['pkey', '-aes256', '-passout', 'pass:secret'], { input: a.keyPem }).toString();
  assert.match(encrypted, /ENCRYPTED PRIVATE KEY/);
  assert.deepEqual(certificateSetProblems(setOf({ ...good, keyPem: encrypted })), [
    'certificates[0].keyPem is not a private key node:crypto can read: send it unencrypted (no passphrase), in PEM',
  ]);
});

test('sizes are bounded before anything is parsed', () => {
  const many = Array.from({ length: CERTIFICATE_SET_LIMITS.certificates + 1 }, () => good);
  assert.deepEqual(certificateSetProblems(setOf(...many)), [`certificates has ${many.length} entries, more than the limit of ${CERTIFICATE_SET_LIMITS.certificates}`]);
  const big = { ...good, certPem: good.certPem + 'x'.repeat(CERTIFICATE_SET_LIMITS.certPemLength) };
  assert.match(certificateSetProblems(setOf(big))[0], /certPem must be a PEM certificate chain, leaf first, of at most 65536 characters/);
  const hosts = Array.from({ length: CERTIFICATE_SET_LIMITS.hostsPerCertificate + 1 }, (_, i) => `h${i}.test`);
  assert.match(certificateSetProblems(setOf({ ...good, hosts }))[0], /hosts must be a list of 1 to 100/);
  const longHost = `${'a'.repeat(60)}.`.repeat(5) + 'test';
  assert.match(certificateSetProblems(setOf({ ...good, hosts: [longHost] }))[0], /hosts\[0\] "a{60}\.a{19}" is not a lowercase host name/, 'the name is cut when shown');
});

test('challenge answers: base64url tokens, each answered by "<token>.<thumbprint>"', () => {
  assert.deepEqual(challengeProblems({ tok_1: 'tok_1.thumb-print', 'a-b': 'a-b.x' }), []);
  assert.deepEqual(challengeProblems({}), []);
  assert.deepEqual(challengeProblems([]), ['challenges must be an object { token: keyAuthorization }']);
  assert.deepEqual(challengeProblems({ 'a/b': 'a/b.x' }), ['challenge token "a/b" must be 1 to 256 base64url characters']);
  for (const answer of ['other.x', 'tok.', 'tok.a b', 'tok.x\r\nSet-Cookie: a', null, 42, `tok.${'x'.repeat(600)}`]) {
    assert.match(challengeProblems({ tok: answer })[0], /^challenges\["tok"\] must be the key authorization/, String(answer));
  }
  const many = Object.fromEntries(Array.from({ length: 1001 }, (_, i) => [`t${i}`, `t${i}.x`]));
  assert.deepEqual(challengeProblems(many), ['challenges has 1001 tokens, more than the limit of 1000']);
  assert.deepEqual(challengeProblems(JSON.parse('{"__proto__":"__proto__.x"}')), [], 'a token named __proto__ is an ordinary one');
});
