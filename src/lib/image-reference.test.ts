import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  checkReference,
  describeFlaw,
  digestProblem,
  familiarReference,
  formatReference,
  IMAGE_REFERENCE_PATTERN,
  isRegistryDomain,
  manifestKey,
  referenceFlaw,
  referenceParts,
  referenceProblem,
  registryOf,
  type ImageReference,
  type ReferenceFlaw,
} from './image-reference.ts';
import { INVALID_SAMPLES, nearReferences, VALID_SAMPLES } from './image-reference.test-support.ts';

const SHA = 'sha256:' + 'a'.repeat(64);
const SHA512 = 'sha512:' + 'b'.repeat(128);

/** The reference checkReference reads (the registry's parseReference throws where this fails the test). */
function parsed(text: string): ImageReference {
  const result = checkReference(text);
  if (!result.ok) assert.fail(`${JSON.stringify(text)} refused: ${result.reason}`);
  return result.reference;
}

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
  ['registry.example.com:443/a/b', 'registry.example.com:443/a/b:latest', 'registry.example.com:443/a/b:latest'],
  ['my-registry/app', 'docker.io/my-registry/app:latest', 'my-registry/app:latest'], // no "." or ":": a Hub namespace
  ['EXAMPLE.COM/app', 'EXAMPLE.COM/app:latest', 'EXAMPLE.COM/app:latest'],
  ['localhost:5000', 'docker.io/library/localhost:5000', 'localhost:5000'], // no slash: a Hub image tagged 5000
  ['a.b/c__d/e-f/g---h/i.j_k', 'a.b/c__d/e-f/g---h/i.j_k:latest', 'a.b/c__d/e-f/g---h/i.j_k:latest'],
  ['busybox:_x', 'docker.io/library/busybox:_x', 'busybox:_x'],
  [`x:${'t'.repeat(128)}`, `docker.io/library/x:${'t'.repeat(128)}`, `x:${'t'.repeat(128)}`],
  [`${'a'.repeat(237)}`, `docker.io/library/${'a'.repeat(237)}:latest`, `${'a'.repeat(237)}:latest`], // 255 with docker.io/library/
];

for (const [written, normalized, familiar] of valid) {
  test(`valid: ${written.slice(0, 60)}`, () => {
    const ref = parsed(written);
    assert.equal(formatReference(ref), normalized);
    assert.equal(familiarReference(ref), familiar);
    assert.ok(Object.isFrozen(ref));
    assert.deepEqual(parsed(normalized), ref, 'normalizing is idempotent');
  });
}

test('the parts: domain, path, tag (latest only without a digest), digest', () => {
  assert.deepEqual({ ...parsed('redis') }, { domain: 'docker.io', path: 'library/redis', tag: 'latest', digest: undefined });
  assert.deepEqual({ ...parsed(`ghcr.io/acme/app@${SHA}`) }, { domain: 'ghcr.io', path: 'acme/app', tag: undefined, digest: SHA });
  assert.deepEqual({ ...parsed('127.0.0.1:5055/x/y:tag') }, { domain: '127.0.0.1:5055', path: 'x/y', tag: 'tag', digest: undefined });
  assert.equal(manifestKey(parsed('redis:7')), '7');
  assert.equal(manifestKey(parsed(`redis:7@${SHA}`)), SHA, 'a digest wins over the tag, as for the engine');
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
  // Where engines differ, what every supported engine takes (see image-reference.ts): newer engines read an
  // upper-case first part as a host and take IPv6 registries; Engine 20.10 refuses both.
  ['Example/app', /repository name "Example\/app" has uppercase letters/, /lowercase: example\/app/],
  ['[::1]:5000/app:1', /"\[::1\]:5000" is not a valid registry host: Docker Engine 20\.10 cannot read an IPv6 address/, /host name/],
  ['[2001:db8::1]/app', /not a valid registry host/, /such as localhost:5000/],
  ['https://ghcr.io/acme/app', /starts with "https:\/\/"/, /registry host/],
];

for (const [written, reason, fix] of invalid) {
  test(`invalid: ${JSON.stringify(written.slice(0, 50))}`, () => {
    const problem = referenceProblem(written);
    assert.ok(problem, 'refused');
    assert.match(problem.reason, reason);
    assert.match(problem.fix, fix);
    // The words of IMAGE_REFERENCE_INVALID, which ../registry/reference.ts: parseReference throws with them.
    assert.deepEqual(checkReference(written), { ok: false, ...problem });
  });
}

test('checkReference gives the reference or the problem, never throws', () => {
  const good = checkReference('redis:7');
  assert.equal(good.ok && formatReference(good.reference), 'docker.io/library/redis:7');
  assert.deepEqual(checkReference('a b'), { ok: false, reason: 'it contains a space', fix: 'remove it: a reference has no spaces, control or non-ASCII characters' });
});

test('digestProblem accepts the three algorithms the engine knows', () => {
  assert.equal(digestProblem(SHA), undefined);
  assert.equal(digestProblem('sha384:' + 'c'.repeat(96)), undefined);
  assert.equal(digestProblem(SHA512), undefined);
  assert.match(digestProblem('sha256:' + 'a'.repeat(65))!, /exactly 64/);
});

test('every sample gets its verdict, and every refusal its words', () => {
  for (const reference of VALID_SAMPLES) assert.equal(referenceProblem(reference), undefined, reference);
  const kinds = new Set<string>();
  for (const reference of INVALID_SAMPLES) {
    const flaw = referenceFlaw(reference);
    assert.ok(flaw, `${JSON.stringify(reference)} is refused`);
    kinds.add(flaw.kind);
    const { reason, fix } = describeFlaw(flaw);
    assert.ok(reason.length > 0 && reason.length < 200 && fix.length > 0, `${JSON.stringify(reference)}: ${reason} / ${fix}`);
  }
  // Only the guards before any grammar (empty, over 1024 characters) are left to the tables above.
  const all: ReferenceFlaw['kind'][] = ['scheme', 'character', 'image-id', 'digest', 'empty-tag', 'tag', 'no-name', 'empty-part', 'host', 'uppercase', 'part', 'name-length'];
  assert.deepEqual(all.filter((kind) => !kinds.has(kind)), []);
});

test('the first flaw found, as data: what berth.yaml words its own way', () => {
  assert.deepEqual(referenceFlaw('Redis:7'), { kind: 'uppercase', part: 'Redis', path: 'library/Redis', lowercase: 'redis:7' });
  assert.deepEqual(referenceFlaw('ghcr.io/Acme/web:1'), { kind: 'uppercase', part: 'Acme', path: 'Acme/web', lowercase: 'ghcr.io/acme/web:1' });
  assert.deepEqual(referenceFlaw('ex_ample.com/x'), { kind: 'host', host: 'ex_ample.com', ipv6: false });
  assert.deepEqual(referenceFlaw('[::1]:5000/x'), { kind: 'host', host: '[::1]:5000', ipv6: true });
  assert.deepEqual(referenceFlaw('a:b:c'), { kind: 'part', part: 'a:b', path: 'library/a:b' });
  assert.deepEqual(referenceFlaw(`redis@sha512:${'a'.repeat(64)}`), { kind: 'digest', digest: `sha512:${'a'.repeat(64)}`, algorithm: 'sha512', hexDigits: 128 });
  assert.deepEqual(referenceFlaw('redis@md5:x'), { kind: 'digest', digest: 'md5:x', algorithm: 'md5', hexDigits: undefined });
  assert.deepEqual(referenceFlaw('a b'), { kind: 'character', character: ' ', whitespace: true });
  assert.deepEqual(referenceFlaw('\u{1F433}'), { kind: 'character', character: '\u{1F433}', whitespace: false }, 'a whole code point, never half of one');
  assert.deepEqual(referenceFlaw('docker.io/' + 'a'.repeat(240)), { kind: 'name-length', length: 258, name: 'docker.io/' + 'a'.repeat(240), normalized: 'docker.io/library/' + 'a'.repeat(240) });
  assert.equal(referenceFlaw('redis:7'), undefined);
});

test('a reference cut where the grammar cuts it, valid or not', () => {
  assert.deepEqual(referenceParts('redis'), { name: 'redis', tag: undefined, digest: undefined });
  assert.deepEqual(referenceParts('127.0.0.1:5055/a/b:v2'), { name: '127.0.0.1:5055/a/b', tag: 'v2', digest: undefined });
  assert.deepEqual(referenceParts(`ghcr.io/a:1@${SHA}`), { name: 'ghcr.io/a', tag: '1', digest: SHA });
  assert.deepEqual(referenceParts('localhost:5000'), { name: 'localhost', tag: '5000', digest: undefined });
  assert.deepEqual(referenceParts('a:b:c@x@y'), { name: 'a:b', tag: 'c', digest: 'x@y' });
});

test('the registry of a reference, as the engine picks it (also from an invalid one, for error messages)', () => {
  const cases: [string, string][] = [
    ['redis:7', 'docker.io'],
    ['acme/app:1', 'docker.io'],
    ['index.docker.io/acme/app:1', 'docker.io'],
    ['docker.io/library/redis:7', 'docker.io'],
    ['ghcr.io/acme/app:1', 'ghcr.io'],
    ['127.0.0.1:5055/team/app:v2', '127.0.0.1:5055'],
    ['localhost/app', 'localhost'],
    ['registry.internal:5000/a/b/c', 'registry.internal:5000'],
    ['localhost:5000', 'docker.io'],
    ['Example/app', 'docker.io'],
    ['ghcr.io/Acme/app', 'ghcr.io'],
    ['node:${VERSION}', 'docker.io'],
  ];
  for (const [ref, registry] of cases) {
    assert.equal(registryOf(ref), registry, ref);
    const parsed = checkReference(ref);
    if (parsed.ok) assert.equal(parsed.reference.domain, registry, `${ref}: the parser agrees`);
  }
});

test('a login may name an IPv6 registry; a reference may not (Engine 20.10 cannot read one)', () => {
  for (const host of ['ghcr.io', '127.0.0.1:5055', 'localhost', '[::1]:5000', 'Example']) assert.equal(isRegistryDomain(host), true, host);
  for (const host of ['exa_mple.com', 'host:port', '-x.com', '[::1', 'a'.repeat(256)]) assert.equal(isRegistryDomain(host), false, host);
});

test('the pattern and the parser agree on every sample and thousands of near-references (the pattern counts no length)', () => {
  let valid = 0;
  for (const reference of [...VALID_SAMPLES, ...INVALID_SAMPLES, ...nearReferences(4000)]) {
    const flaw = referenceFlaw(reference);
    if (flaw?.kind === 'name-length') continue;
    assert.equal(IMAGE_REFERENCE_PATTERN.test(reference), flaw === undefined, `${JSON.stringify(reference)}: ${flaw?.kind}`);
    if (!flaw) valid++;
  }
  assert.ok(valid > 1000, `${valid} valid: too few to compare`);
});
