import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InvalidCertificateSetError } from '../../dataplane/route-table.ts';
import { makeTestCa, tlsCertificate } from '../../../test/support/tls-certs.ts';
import { LiveCertificates } from './certificates.ts';
import { tlsPolicy } from './policy.ts';

const ca = makeTestCa();
const exact = ca.issue(['api.example.test', 'example.test']);
const wild = ca.issue(['*.example.test']);
const other = ca.issue(['other.test']);
const now = Date.now();

test('SNI picks the exact name first, then a wildcard one label deep, never deeper', () => {
  const live = new LiveCertificates(tlsPolicy());
  assert.equal(live.apply({ generation: 1, certificates: [tlsCertificate('wild', ['*.example.test'], wild), tlsCertificate('exact', ['api.example.test', 'example.test'], exact)] }), true);
  const id = (name: string) => live.pick(name, now)?.id;
  assert.equal(id('api.example.test'), 'exact');
  assert.equal(id('example.test'), 'exact');
  assert.equal(id('www.example.test'), 'wild');
  assert.equal(id('a.b.example.test'), undefined, 'a wildcard covers one label');
  assert.equal(id('other.test'), undefined);
  assert.equal(id('WWW.Example.Test.'), 'wild', 'case and the trailing dot do not matter');
  assert.equal(id(''), undefined);
  assert.equal(id('x'.repeat(300)), undefined);
  assert.ok(live.covers('www.example.test', now));
  assert.ok(!live.covers('a.b.example.test', now));
});

test('an expired certificate is not served; of two, the one that lasts longer is', () => {
  const live = new LiveCertificates(tlsPolicy());
  live.apply({
    generation: 1,
    certificates: [
      tlsCertificate('old', ['api.example.test'], exact, now + 1000),
      tlsCertificate('new', ['api.example.test'], exact, now + 5000),
      tlsCertificate('expired', ['other.test'], other, now - 1),
      tlsCertificate('wild', ['*.example.test'], wild),
    ],
  });
  assert.equal(live.pick('api.example.test', now)?.id, 'new');
  assert.equal(live.pick('api.example.test', now + 6000)?.id, 'wild', 'both exact ones expired: the wildcard covers the name');
  assert.equal(live.pick('other.test', now), undefined);
  assert.ok(!live.covers('other.test', now), 'no redirect to a certificate that is not served');
});

test('an older set is refused, a bad set refused whole: the set in use keeps serving', () => {
  const live = new LiveCertificates(tlsPolicy());
  live.apply({ generation: 5, certificates: [tlsCertificate('a', ['other.test'], other)] });
  assert.equal(live.apply({ generation: 4, certificates: [] }), false);
  const bad = { generation: 6, certificates: [tlsCertificate('w', ['*.example.test'], wild), { ...tlsCertificate('x', ['other.test'], other), keyPem: exact.keyPem }] };
  assert.throws(() => live.apply(bad), (error: unknown) => error instanceof InvalidCertificateSetError && /certificates\[1\]\.keyPem is not the key/.test(error.message));
  assert.equal(live.set.generation, 5);
  assert.equal(live.pick('other.test', now)?.id, 'a');
  assert.equal(live.pick('www.example.test', now), undefined, 'nothing of the bad set was taken');
  assert.deepEqual(live.summary(), { generation: 5, certificates: [{ id: 'a', hosts: ['other.test'], notAfter: other.notAfter }] });
});

test('an entry the set in use has keeps its context; a changed one gets a new context', () => {
  const live = new LiveCertificates(tlsPolicy());
  live.apply({ generation: 1, certificates: [tlsCertificate('a', ['other.test'], other), tlsCertificate('e', ['api.example.test', 'example.test'], exact)] });
  const before = live.pick('other.test', now)!.context;
  const exactBefore = live.pick('api.example.test', now)!.context;
  live.apply({ generation: 2, certificates: [tlsCertificate('a', ['other.test'], other), tlsCertificate('e', ['api.example.test'], exact)] });
  assert.equal(live.pick('other.test', now)!.context, before, 'same hosts, certificate and key: same context');
  assert.notEqual(live.pick('api.example.test', now)!.context, exactBefore, 'other hosts: checked and built again');
  assert.equal(live.pick('example.test', now), undefined);
});
