import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isBerthError } from '../errors/catalogue.ts';
import { checkReference, digestProblem, familiarReference, formatReference, manifestKey, parseReference, pinReference, referenceProblem } from './reference.ts';

const SHA = 'sha256:' + 'a'.repeat(64);
const SHA512 = 'sha512:' + 'b'.repeat(128);

// What the engine makes of each reference (docker pull / distribution's ParseNormalizedNamed + TagNameOnly).
const valid: [string, string, string][] = [
  // written                                       normalized                                         familiar
  ['redis', 'docker.io/library/redis:latest', 'redis:latest'],
  ['redis:7', 'docker.io/library/redis:7', 'redis:7'],
  ['redis:7.2-alpine', 'docker.io/library/redis:7.2-alpine', 'redis:7.2-alpine'],
  ['library/redis', 'docker.io/library/redis:latest', 'redis:latest'],
  ['docker.io/redis:7', 'docker.io/library/redis:7', 'redis:7'],
  ['docker.io/library/redis:7', 'docker.io/library/redis:7', 'redis:7'],
  ['index.docker.io/redis', 'docker.io/library/redis:latest', 'redis:latest'],
  ['index.docker.io/acme/app:1', 'docker.io/acme/app:1', 'acme/app:1'],
  ['acme/app', 'docker.io/acme/app:latest', 'acme/app:latest'],
  ['docker.io/library/foo/bar', 'docker.io/library/foo/bar:latest', 'library/foo/bar:latest'],
  ['acme/team/app:v1', 'docker.io/acme/team/app:v1', 'acme/team/app:v1'],
  [`ghcr.io/acme/app@${SHA}`, `ghcr.io/acme/app@${SHA}`, `ghcr.io/acme/app@${SHA}`],
  [`ghcr.io/acme/app:1.2@${SHA}`, `ghcr.io/acme/app:1.2@${SHA}`, `ghcr.io/acme/app:1.2@${SHA}`],
  [`redis@${SHA512}`, `docker.io/library/redis@${SHA512}`, `redis@${SHA512}`],
  ['127.0.0.1:5055/x/y:tag', '127.0.0.1:5055/x/y:tag', '127.0.0.1:5055/x/y:tag'],
  ['127.0.0.1:5055/y', '127.0.0.1:5055/y:latest', '127.0.0.1:5055/y:latest'],
  ['localhost/app', 'localhost/app:latest', 'localhost/app:latest'],
  ['localhost:5000/app:1', 'localhost:5000/app:1', 'localhost:5000/app:1'],
  ['[::1]:5000/app:1', '[::1]:5000/app:1', '[::1]:5000/app:1'],
  ['[2001:db8::1]/app', '[2001:db8::1]/app:latest', '[2001:db8::1]/app:latest'],
  ['registry.example.com:443/a/b', 'registry.example.com:443/a/b:latest', 'registry.example.com:443/a/b:latest'],
  ['my-registry/app', 'docker.io/my-registry/app:latest', 'my-registry/app:latest'], // no "." or ":": a Hub namespace
  ['Example/app', 'Example/app:latest', 'Example/app:latest'], // uppercase first element: a host name
  ['EXAMPLE.COM/app', 'EXAMPLE.COM/app:latest', 'EXAMPLE.COM/app:latest'],
  ['localhost:5000', 'docker.io/library/localhost:5000', 'localhost:5000'], // no slash: a Hub image tagged 5000
  ['a.b/c__d/e-f/g---h/i.j_k', 'a.b/c__d/e-f/g---h/i.j_k:latest', 'a.b/c__d/e-f/g---h/i.j_k:latest'],
  ['busybox:_x', 'docker.io/library/busybox:_x', 'busybox:_x'],
  [`x:${'t'.repeat(128)}`, `docker.io/library/x:${'t'.repeat(128)}`, `x:${'t'.repeat(128)}`],
  [`${'a'.repeat(237)}`, `docker.io/library/${'a'.repeat(237)}:latest`, `${'a'.repeat(237)}:latest`], // 255 with docker.io/library/
];

for (const [written, normalized, familiar] of valid) {
  test(`valid: ${written.slice(0, 60)}`, () => {
    const ref = parseReference(written);
    assert.equal(formatReference(ref), normalized);
    assert.equal(familiarReference(ref), familiar);
    assert.ok(Object.isFrozen(ref));
    assert.deepEqual(parseReference(normalized), ref, 'normalizing is idempotent');
  });
}

test('the parts: domain, path, tag (latest only without a digest), digest', () => {
  assert.deepEqual({ ...parseReference('redis') }, { domain: 'docker.io', path: 'library/redis', tag: 'latest', digest: undefined });
  assert.deepEqual({ ...parseReference(`ghcr.io/acme/app@${SHA}`) }, { domain: 'ghcr.io', path: 'acme/app', tag: undefined, digest: SHA });
  assert.deepEqual({ ...parseReference('127.0.0.1:5055/x/y:tag') }, { domain: '127.0.0.1:5055', path: 'x/y', tag: 'tag', digest: undefined });
  assert.equal(manifestKey(parseReference('redis:7')), '7');
  assert.equal(manifestKey(parseReference(`redis:7@${SHA}`)), SHA, 'a digest wins over the tag, as for the engine');
});

// [written, what the reason must say, what the fix must say]
const invalid: [string, RegExp, RegExp][] = [
  ['', /empty/, /redis:7/],
  ['Redis:7', /repository name "library\/Redis" has uppercase letters/, /lowercase: redis:7/],
  ['ghcr.io/Acme/app', /uppercase/, /ghcr\.io\/acme\/app/],
  ['a b', /a space/, /no spaces/],
  ['redis:7\n', /control character \(U\+000A\)/, /remove it/],
  ['rédis', /non-ASCII character "é"/, /remove it/],
  ['a'.repeat(300), /repository name is 318 characters long/, /at most 255/],
  ['x'.repeat(2000), /2000 characters long/, /at most 255/],
  [`${'a'.repeat(238)}`, /256 characters long/, /at most 255/],
  ['redis@sha256:abc', /not algorithm:hex with at least 32 hex digits/, /whole digest/],
  [`redis@sha256:${'a'.repeat(63)}`, /needs exactly 64 lowercase hex digits/, /whole digest/],
  [`redis@sha256:${'A'.repeat(64)}`, /needs exactly 64 lowercase hex digits/, /whole digest/],
  [`redis@md5:${'a'.repeat(32)}`, /algorithm "md5" is not supported/, /whole digest/],
  ['redis@', /digest "" is not/, /whole digest/],
  [`redis@${SHA}@${SHA}`, /is not algorithm:hex/, /whole digest/],
  ['a'.repeat(64).replace(/a/g, 'f'), /image ID, not a reference/, /name@sha256/],
  ['redis:', /tag after ":" is empty/, /1 to 128/],
  ['redis:-x', /tag "-x" is not valid/, /not starting with/],
  ['redis:.x', /tag ".x" is not valid/, /1 to 128/],
  ['redis:a!b', /is not valid/, /1 to 128/],
  [`x:${'t'.repeat(129)}`, /is not valid/, /1 to 128/],
  [':7', /no repository name/, /redis:7/],
  ['@' + SHA, /no repository name/, /redis:7/],
  ['foo//bar', /has an empty part/, /lowercase letters and digits/],
  ['acme/-app', /"-app" in the repository name is not valid/, /not at the start or end/],
  ['acme/app-', /"app-" in the repository name/, /joined by/],
  ['acme/a..b', /"a\.\.b"/, /joined by/],
  ['acme/a___b', /"a___b"/, /joined by/],
  ['acme/app/', /empty part/, /joined by/],
  ['exa_mple.com/app', /"exa_mple\.com" is not a valid registry host/, /ghcr\.io or 127\.0\.0\.1:5000/],
  ['-bad.com/app', /not a valid registry host/, /host name/],
  ['host.com:port/app', /not a valid registry host/, /optional port/],
  ['[::1/app', /not a valid registry host/, /optional port/],
];

for (const [written, reason, fix] of invalid) {
  test(`invalid: ${JSON.stringify(written.slice(0, 50))}`, () => {
    const problem = referenceProblem(written);
    assert.ok(problem, 'refused');
    assert.match(problem.reason, reason);
    assert.match(problem.fix, fix);
    assert.throws(
      () => parseReference(written),
      (error) => isBerthError(error) && error.code === 'IMAGE_REFERENCE_INVALID' && error.message.includes(problem.reason) && error.hint === problem.fix,
    );
  });
}

test('the error message quotes a long or odd reference safely and shortly', () => {
  try {
    parseReference(`${'a'.repeat(300)}\u0007`);
    assert.fail('refused');
  } catch (error) {
    assert.ok(isBerthError(error));
    assert.ok(error.message.length < 300, error.message);
    assert.ok(!error.message.includes('\u0007'), 'control characters are escaped');
  }
});

test('checkReference gives the reference or the problem, never throws', () => {
  const good = checkReference('redis:7');
  assert.equal(good.ok && formatReference(good.reference), 'docker.io/library/redis:7');
  assert.deepEqual(checkReference('a b'), { ok: false, reason: 'it contains a space', fix: 'remove it: a reference has no spaces, control or non-ASCII characters' });
});

test('pinReference drops the tag and keeps the digest; refuses a bad digest', () => {
  const pinned = pinReference(parseReference('127.0.0.1:5055/x/y:tag'), SHA);
  assert.equal(formatReference(pinned), `127.0.0.1:5055/x/y@${SHA}`);
  assert.throws(() => pinReference(pinned, 'sha256:zz'), { code: 'IMAGE_REFERENCE_INVALID' });
});

test('digestProblem accepts the three algorithms the engine knows', () => {
  assert.equal(digestProblem(SHA), undefined);
  assert.equal(digestProblem('sha384:' + 'c'.repeat(96)), undefined);
  assert.equal(digestProblem(SHA512), undefined);
  assert.match(digestProblem('sha256:' + 'a'.repeat(65))!, /exactly 64/);
});
