/**
 * pull-errors.ts on the engine's own words. Each message below was captured from Docker Engine 20.10.24
 * (API 1.41) pulling from a real Distribution registry (Debian's docker-registry 2.8) on 127.0.0.1: as
 * the answer of POST /images/create (with its HTTP status), inside its progress stream (status 0), or as
 * the error of a legacy build whose FROM could not be pulled. The last few, marked, could not be produced
 * here and are the engine's formats for those answers.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { baseImageError, fromImage, pullError, type PullContext } from './pull-errors.ts';

const local = (reference: string, authenticated = false): PullContext => ({ reference, registry: reference.slice(0, reference.indexOf('/')), authenticated });
const hub = (reference: string, authenticated = false): PullContext => ({ reference, registry: 'docker.io', authenticated });

const CAPTURED: { what: string; message: string; status: number; ctx: PullContext; code: string; says: RegExp }[] = [
  {
    what: 'an unknown tag',
    message: 'manifest for 127.0.0.1:5055/cap/busybox:nope not found: manifest unknown: manifest unknown',
    status: 404,
    ctx: local('127.0.0.1:5055/cap/busybox:nope'),
    code: 'IMAGE_NOT_FOUND',
    says: /image 127\.0\.0\.1:5055\/cap\/busybox:nope was not found on 127\.0\.0\.1:5055: the registry has no such repository or tag/,
  },
  {
    what: 'an unknown repository (Distribution says "manifest unknown" for it too)',
    message: 'manifest for 127.0.0.1:5055/cap/nothing:1 not found: manifest unknown: manifest unknown',
    status: 404,
    ctx: local('127.0.0.1:5055/cap/nothing:1'),
    code: 'IMAGE_NOT_FOUND',
    says: /was not found on 127\.0\.0\.1:5055/,
  },
  {
    what: 'an unknown digest',
    message: 'manifest for 127.0.0.1:5055/cap/busybox@sha256:0000000000000000000000000000000000000000000000000000000000000000 not found: manifest unknown: manifest unknown',
    status: 404,
    ctx: local('127.0.0.1:5055/cap/busybox@sha256:0000000000000000000000000000000000000000000000000000000000000000'),
    code: 'IMAGE_NOT_FOUND',
    says: /was not found/,
  },
  {
    what: 'a registry port nothing listens on',
    message: 'Get "http://127.0.0.1:5056/v2/": dial tcp 127.0.0.1:5056: connect: connection refused',
    status: 500,
    ctx: local('127.0.0.1:5056/cap/busybox:1'),
    code: 'REGISTRY_UNREACHABLE',
    says: /cannot reach registry 127\.0\.0\.1:5056 for 127\.0\.0\.1:5056\/cap\/busybox:1: the connection was refused/,
  },
  {
    what: 'Docker Hub from a machine without DNS for it (the issue\'s `npm run up`)',
    message: 'Get "https://registry-1.docker.io/v2/": dial tcp: lookup registry-1.docker.io on 10.255.255.53:53: no such host',
    status: 500,
    ctx: hub('redis:7'),
    code: 'REGISTRY_UNREACHABLE',
    says: /cannot reach registry docker\.io for redis:7: its name does not resolve \(DNS\)/,
  },
  {
    what: 'ghcr.io without DNS',
    message: 'Get "https://ghcr.io/v2/": dial tcp: lookup ghcr.io on 10.255.255.53:53: no such host',
    status: 500,
    ctx: { reference: 'ghcr.io/acme/app:1', registry: 'ghcr.io', authenticated: false },
    code: 'REGISTRY_UNREACHABLE',
    says: /cannot reach registry ghcr\.io/,
  },
  {
    what: 'a registry that accepts connections and never answers (the engine gives up after 25 s)',
    message: 'Get "http://127.0.0.1:5058/v2/": net/http: request canceled (Client.Timeout exceeded while awaiting headers)',
    status: 500,
    ctx: local('127.0.0.1:5058/cap/busybox:1'),
    code: 'REGISTRY_UNREACHABLE',
    says: /it did not answer in time/,
  },
  {
    what: 'a registry that wants a login, pulled without credentials',
    message: 'Head "http://127.0.0.1:5057/v2/cap/busybox/manifests/1": no basic auth credentials',
    status: 500,
    ctx: local('127.0.0.1:5057/cap/busybox:1'),
    code: 'REGISTRY_AUTH_FAILED',
    says: /registry 127\.0\.0\.1:5057 refused access to 127\.0\.0\.1:5057\/cap\/busybox:1: it needs a login, and berth has no credentials/,
  },
  {
    what: 'a wrong password',
    message: 'unauthorized: authentication required',
    status: 500,
    ctx: local('127.0.0.1:5057/cap/busybox:1', true),
    code: 'REGISTRY_AUTH_FAILED',
    says: /the credentials were refused \(unauthorized: authentication required\)/,
  },
  {
    what: 'a full disk, inside the progress stream (a private engine on a 4 MB tmpfs)',
    message: 'write /tmp/pullcap/d2/data/tmp/GetImageBlob734860226: no space left on device',
    status: 0,
    ctx: local('127.0.0.1:5055/cap/big:1'),
    code: 'DISK_FULL',
    says: /the server's disk is full: pulling 127\.0\.0\.1:5055\/cap\/big:1 \(no space left on device\)/,
  },
  {
    what: 'an invalid reference',
    message: 'invalid reference format: repository name must be lowercase',
    status: 400,
    ctx: hub('Redis:7'),
    code: 'IMAGE_REFERENCE_INVALID',
    says: /"Redis:7" is not a valid image reference: repository name must be lowercase/,
  },
  // Not reproducible on this machine (no Docker Hub, no TLS registry, no failing registry): the engine's
  // texts for these answers as its sources write them (moby distribution/errors.go, Go's net/http and x509).
  {
    what: 'Docker Hub: a repository that does not exist, or is private',
    message: "pull access denied for acme/nothing, repository does not exist or may require 'docker login': denied: requested access to the resource is denied",
    status: 404,
    ctx: hub('acme/nothing:1'),
    code: 'IMAGE_NOT_FOUND',
    says: /no such repository, or it is private and needs a login/,
  },
  {
    what: 'Docker Hub: a repository the logged-in user may not pull',
    message: "pull access denied for acme/private, repository does not exist or may require 'docker login': denied: requested access to the resource is denied",
    status: 404,
    ctx: hub('acme/private:1', true),
    code: 'IMAGE_NOT_FOUND',
    says: /the user berth logs in with may not pull it/,
  },
  {
    what: 'a registry that says NAME_UNKNOWN',
    message: 'repository 127.0.0.1:5055/cap/nothing not found: name unknown: repository name not known to registry',
    status: 404,
    ctx: local('127.0.0.1:5055/cap/nothing:1'),
    code: 'IMAGE_NOT_FOUND',
    says: /the registry has no such repository/,
  },
  {
    what: 'a registry with a certificate nobody signed',
    message: 'Get "https://registry.internal:5000/v2/": x509: certificate signed by unknown authority',
    status: 500,
    ctx: { reference: 'registry.internal:5000/app:1', registry: 'registry.internal:5000', authenticated: false },
    code: 'REGISTRY_UNREACHABLE',
    says: /its TLS certificate is not trusted/,
  },
  {
    what: 'Docker Hub\'s rate limit',
    message: 'toomanyrequests: You have reached your pull rate limit. You may increase the limit by authenticating and upgrading: https://www.docker.com/increase-rate-limit',
    status: 500,
    ctx: hub('redis:7'),
    code: 'PULL_FAILED',
    says: /docker\.io refuses more pulls for now \(its rate limit; a login raises it\)/,
  },
  {
    what: 'a registry failing with 5xx',
    message: 'received unexpected HTTP status: 503 Service Unavailable',
    status: 500,
    ctx: local('127.0.0.1:5055/cap/busybox:1'),
    code: 'REGISTRY_ERROR',
    says: /registry 127\.0\.0\.1:5055 gave an unusable answer for 127\.0\.0\.1:5055\/cap\/busybox:1: received unexpected HTTP status: 503/,
  },
  {
    what: 'a connection cut during a layer download',
    message: 'unexpected EOF',
    status: 0,
    ctx: local('127.0.0.1:5055/cap/big:1'),
    code: 'REGISTRY_UNREACHABLE',
    says: /the connection dropped/,
  },
];

for (const c of CAPTURED) {
  test(`pullError: ${c.what} -> ${c.code}`, () => {
    const error = pullError(c.message, c.status, c.ctx);
    assert.equal(error.code, c.code, error.message);
    assert.match(error.message, c.says);
    assert.ok(error.hint, 'every pull error says what to do next');
    assert.doesNotMatch(`${error.message} ${error.hint}`, /internal error|bug in berth|run the same build locally/);
  });
}

test('an unknown message is PULL_FAILED quoting the engine, and an unknown 404 is still IMAGE_NOT_FOUND', () => {
  const odd = pullError('failed to register layer: something new', 500, local('127.0.0.1:5055/a:1'));
  assert.equal(odd.code, 'PULL_FAILED');
  assert.equal(odd.message, 'could not pull 127.0.0.1:5055/a:1: failed to register layer: something new');
  assert.equal(pullError('not there, in words nobody wrote before', 404, local('127.0.0.1:5055/a:1')).code, 'IMAGE_NOT_FOUND');
});

test('what the registry wrote reaches the message on one line, without control characters, bounded', () => {
  const error = pullError(`unauthorized: ${'\u001b[31mx\r\n'.repeat(200)}`, 500, local('127.0.0.1:5055/a:1', true));
  assert.equal(error.code, 'REGISTRY_AUTH_FAILED');
  assert.doesNotMatch(error.message, /[\u0000-\u001f]/);
  assert.ok(error.message.length < 500, `${error.message.length} characters`);
});

test('a build whose FROM step failed to pull gets that pull\'s error, not "build failed ... run the same build locally"', () => {
  // The legacy builder's stream for `FROM redis:7` on a machine without registry access.
  const error = baseImageError(
    'Get "https://registry-1.docker.io/v2/": dial tcp: lookup registry-1.docker.io on 10.255.255.53:53: no such host',
    'Step 1/2 : FROM redis:7',
  );
  assert.equal(error?.code, 'REGISTRY_UNREACHABLE');
  assert.equal(error?.message, 'cannot reach registry docker.io for redis:7: its name does not resolve (DNS)');
  assert.doesNotMatch(error!.hint!, /run the same build locally/);

  const missing = baseImageError('manifest for 127.0.0.1:5055/cap/busybox:nope not found: manifest unknown: manifest unknown', 'Step 1/2 : FROM 127.0.0.1:5055/cap/busybox:nope');
  assert.equal(missing?.code, 'IMAGE_NOT_FOUND');
  assert.match(missing!.message, /^image 127\.0\.0\.1:5055\/cap\/busybox:nope was not found on 127\.0\.0\.1:5055/);

  // A FROM with a variable: the step line shows it as written, the engine's message the image it meant.
  const variable = baseImageError('manifest for 127.0.0.1:5055/team/base:no-such-tag not found: manifest unknown: manifest unknown', 'Step 2/3 : FROM 127.0.0.1:5055/team/base:${TAG}');
  assert.equal(variable?.message, 'image 127.0.0.1:5055/team/base:no-such-tag was not found on 127.0.0.1:5055: the registry has no such repository or tag');
  const variableHost = baseImageError('Get "https://registry-1.docker.io/v2/": dial tcp: lookup registry-1.docker.io on 10.255.255.53:53: no such host', 'Step 2/3 : FROM node:${VERSION}');
  assert.equal(variableHost?.message, 'cannot reach registry docker.io for node:${VERSION}: its name does not resolve (DNS)');

  // Any other step is a build failure as before, whatever its words.
  assert.equal(baseImageError("The command '/bin/sh -c curl https://x' returned a non-zero code: 6", 'Step 2/2 : RUN curl https://x'), undefined);
  assert.equal(baseImageError('something the engine says that is no pull failure', 'Step 1/2 : FROM redis:7'), undefined);
  assert.equal(baseImageError('no such host', undefined), undefined);
});

test('the image of a FROM step', () => {
  assert.equal(fromImage('Step 1/5 : FROM node:24-slim'), 'node:24-slim');
  assert.equal(fromImage('Step 3/9 : FROM --platform=linux/amd64 127.0.0.1:5000/a/b:1 AS deps'), '127.0.0.1:5000/a/b:1');
  assert.equal(fromImage('Step 2/5 : RUN npm ci'), undefined);
  assert.equal(fromImage(undefined), undefined);
});
