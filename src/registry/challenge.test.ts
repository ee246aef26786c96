import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseChallenges, parseTokenAnswer } from './challenge.ts';

const plain = (header: string | string[] | undefined) => parseChallenges(header).map((c) => ({ scheme: c.scheme, params: { ...c.params } }));

test('the challenges registries send', () => {
  // Docker Hub, GHCR, Distribution with htpasswd
  assert.deepEqual(plain('Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/redis:pull"'), [
    { scheme: 'bearer', params: { realm: 'https://auth.docker.io/token', service: 'registry.docker.io', scope: 'repository:library/redis:pull' } },
  ]);
  assert.deepEqual(plain('Bearer realm="https://ghcr.io/token",service="ghcr.io",scope="repository:acme/app:pull"')[0].params.service, 'ghcr.io');
  assert.deepEqual(plain('Basic realm="berth-test"'), [{ scheme: 'basic', params: { realm: 'berth-test' } }]);
});

test('RFC 7235 details: case, spaces, quoting, token values, several challenges, two headers', () => {
  assert.deepEqual(plain('BEARER Realm = "https://a/t" , Service=reg, error="insufficient_scope"'), [
    { scheme: 'bearer', params: { realm: 'https://a/t', service: 'reg', error: 'insufficient_scope' } },
  ]);
  assert.deepEqual(plain('Bearer realm="a \\"quoted\\" \\\\ value"'), [{ scheme: 'bearer', params: { realm: 'a "quoted" \\ value' } }]);
  assert.deepEqual(plain('Basic realm="x", Bearer realm="https://t",service="s"'), [
    { scheme: 'basic', params: { realm: 'x' } },
    { scheme: 'bearer', params: { realm: 'https://t', service: 's' } },
  ]);
  assert.deepEqual(plain(['Basic realm="x"', 'Bearer realm="y"']).map((c) => c.scheme), ['basic', 'bearer']);
  assert.deepEqual(plain('Negotiate dG9rZW4=, Basic realm="x"'), [
    { scheme: 'negotiate', params: {} },
    { scheme: 'basic', params: { realm: 'x' } },
  ]);
  assert.deepEqual(plain('Bearer'), [{ scheme: 'bearer', params: {} }]);
});

test('what cannot be read gives nothing usable, never throws', () => {
  assert.deepEqual(plain(undefined), []);
  assert.deepEqual(plain(''), []);
  assert.deepEqual(plain('Bearer realm="unterminated'), []);
  assert.deepEqual(plain(`Bearer realm="${'x'.repeat(9000)}"`), [], 'over 8 KiB is not parsed');
  assert.deepEqual(plain('Bearer __proto__="x"')[0].params.__proto__, 'x', 'parameter names are plain keys');
});

test('the token answer: token or access_token, expires_in at least 60 s (the spec default) and at most a day', () => {
  assert.deepEqual(parseTokenAnswer('{"token":"abc","expires_in":300}'), { token: 'abc', expiresIn: 300 });
  assert.deepEqual(parseTokenAnswer('{"access_token":"xyz"}'), { token: 'xyz', expiresIn: 60 });
  assert.deepEqual(parseTokenAnswer('{"token":"","access_token":"xyz","expires_in":5}'), { token: 'xyz', expiresIn: 60 });
  assert.deepEqual(parseTokenAnswer('{"token":"t","expires_in":1e12}'), { token: 't', expiresIn: 86400 });
  assert.deepEqual(parseTokenAnswer('{"token":"t","expires_in":"300"}'), { token: 't', expiresIn: 60 });
  assert.throws(() => parseTokenAnswer('<html>'), /not JSON/);
  assert.throws(() => parseTokenAnswer('[1]'), /without a token/);
  assert.throws(() => parseTokenAnswer('null'), /not an object/);
  assert.throws(() => parseTokenAnswer('{"token":"a b"}'), /printable ASCII/);
  assert.throws(() => parseTokenAnswer(JSON.stringify({ token: 'x'.repeat(70000) })), /printable ASCII/);
});
