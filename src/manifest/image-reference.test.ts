import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { defaultSocketPath } from '../runtime/docker/engine-http.ts';
import { dockerSuite } from '../../test/support/docker.ts';
import { IMAGE_REFERENCE, imageReferenceProblem, MAX_IMAGE_REFERENCE_LENGTH, pinsDigest, suggestImageReference } from './sections/image-reference.ts';

const hex = (n: number, digit = 'a') => digit.repeat(n);

/** References Docker pulls, in every shape the grammar has. */
const VALID = [
  'redis',
  'redis:7',
  'redis:7-alpine',
  'library/redis:7.2.4',
  'docker.io/library/mariadb:11',
  'ghcr.io/acme/web:1.4',
  'ghcr.io/acme/team/web:v1.4.0-rc.1',
  'localhost/web',
  'localhost:5000/a/b:c',
  '127.0.0.1:5055/shop/web:latest',
  'HOST.example.com/x',
  'registry-1.example.com:443/a/b',
  'a__b',
  'a--b',
  'a.b_c-d',
  'redis:_7',
  'redis:UPPER',
  `redis:${hex(128)}`,
  `mongo@sha256:${hex(64)}`,
  `mongo:7@sha256:${hex(64, '0')}`,
  `mongo@sha384:${hex(96)}`,
  `mongo@sha512:${hex(128)}`,
  'x.io:5000',
  'ex_ample.com/x',
  `x.io/${'a'.repeat(250)}`,
  `${'a'.repeat(237)}`,
  `a/${'a'.repeat(243)}`,
];

/** What is wrong, in the words berth shows after `"<ref>" is not a valid image: `. */
const INVALID: [reference: string, problem: RegExp][] = [
  ['Redis:7', /^the name must be lowercase, unlike `Redis`$/],
  ['ghcr.io/Acme/web', /^the name must be lowercase, unlike `Acme`$/],
  ['Foo/bar', /^the name must be lowercase, unlike `Foo`$/],
  ['Localhost/x', /^the name must be lowercase, unlike `Localhost`$/],
  ['a b', /^an image reference has no spaces$/],
  [' redis', /no spaces/],
  ['https://ghcr.io/acme/web', /no scheme such as `https:\/\/`/],
  ['redis:', /ends its name with `:` but no tag/],
  ['redis:.7', /^the tag `.7` is not valid/],
  ['redis:-7', /^the tag `-7` is not valid/],
  [`redis:${hex(129)}`, /^the tag `a+…` is not valid/],
  ['a:b:c', /^`a:b` is not a valid part of a name/],
  [':7', /no name before its tag/],
  ['@', /must start with `sha256:`/],
  ['redis@sha256:abc', /must be `sha256:` and 64 lowercase hex digits$/],
  [`redis@sha256:${hex(63)}`, /64 lowercase hex digits/],
  [`redis@sha256:${hex(65)}`, /64 lowercase hex digits/],
  [`redis@sha256:${hex(64, 'A')}`, /64 lowercase hex digits/],
  [`redis@sha512:${hex(64)}`, /must be `sha512:` and 128 lowercase hex digits/],
  [`redis@md5:${hex(32)}`, /must start with `sha256:`/],
  [`a@sha256:${hex(64)}@sha256:${hex(64)}`, /more than one `@`/],
  ['a..b', /^`a..b` is not a valid part of a name/],
  ['a___b', /not a valid part of a name/],
  ['a-.b', /not a valid part of a name/],
  ['-a', /not a valid part of a name/],
  ['a-', /not a valid part of a name/],
  ['a/-b', /^`-b` is not a valid part of a name/],
  ['a/', /empty part/],
  ['/a', /empty part/],
  ['a//b', /empty part/],
  ['x.io:abc/y', /^`x.io:abc` is not a valid registry host/],
  ['x.io:/y', /^`x.io:` is not a valid registry host/],
  ['-x.io/y', /not a valid registry host/],
  ['x-.io/y', /not a valid registry host/],
  ['[::1]:5000/x', /not a valid registry host/],
  [hex(64, 'b'), /64-digit hex string is an image ID/],
  [`${'a'.repeat(238)}`, /^its name is 256 characters long counting the `docker.io\/library\/` it stands for; Docker allows at most 255$/],
  [`a/${'a'.repeat(244)}`, /^its name is 256 characters long counting the `docker.io\/` it stands for/],
  [`x.io/${'a'.repeat(251)}`, /^its name is 256 characters long; Docker allows at most 255$/],
  ['a'.repeat(300), /318 characters long/],
];

describe('image references', () => {
  test('valid references have no problem and match the JSON Schema pattern', () => {
    for (const reference of VALID) {
      assert.equal(imageReferenceProblem(reference), undefined, reference);
      assert.ok(IMAGE_REFERENCE.test(reference), reference);
      assert.ok(reference.length <= MAX_IMAGE_REFERENCE_LENGTH, reference);
    }
  });

  test('invalid references say what is wrong, and the pattern refuses them too', () => {
    for (const [reference, problem] of INVALID) {
      assert.match(imageReferenceProblem(reference) ?? 'no problem found', problem, reference);
      // The pattern has no length rule: a name too long is the one thing only the words catch.
      if (!/characters long/.test(imageReferenceProblem(reference) ?? '')) assert.ok(!IMAGE_REFERENCE.test(reference), reference);
    }
  });

  test('the words and the pattern agree on thousands of near-references', () => {
    let valid = 0;
    for (const reference of corpus(4000)) {
      const byWords = imageReferenceProblem(reference) === undefined;
      assert.equal(IMAGE_REFERENCE.test(reference), byWords, `${JSON.stringify(reference)}: ${imageReferenceProblem(reference)}`);
      if (byWords) valid++;
    }
    // Both verdicts are well represented, or the corpus proves little.
    assert.ok(valid > 1000 && valid < 3000, `${valid} of 4000 valid`);
  });

  test('the fix offered is the reference as meant, when there is one', () => {
    const cases: [string, string][] = [
      ['Redis:7', 'redis:7'],
      ['ghcr.io/Acme/Web:V1', 'ghcr.io/acme/web:V1'],
      [' https://GHCR.io/acme/web:1.4/ ', 'GHCR.io/acme/web:1.4'],
      ['docker pull nginx:1.27', 'nginx:1.27'],
      ['redis:', 'redis'],
      [`redis@sha256:${hex(64, 'F')}`, `redis@sha256:${hex(64, 'f')}`],
    ];
    for (const [bad, meant] of cases) {
      assert.equal(suggestImageReference(bad), meant, bad);
      assert.equal(imageReferenceProblem(meant), undefined, meant);
    }
  });

  test('a reference with a digest is pinned, whatever its tag', () => {
    assert.equal(pinsDigest(`redis:7@sha256:${hex(64)}`), true);
    assert.equal(pinsDigest(`redis@sha256:${hex(64)}`), true);
    assert.equal(pinsDigest('localhost:5000/redis:7'), false);
  });
});

describe('image references: berth agrees with the Docker engine', async () => {
  const docker = await dockerSuite();
  test('every reference berth accepts the engine parses, and every one it refuses the engine refuses', { skip: docker.skip }, async () => {
    const asked = [...VALID, ...INVALID.map(([reference]) => reference), ...corpus(400)].filter(askable);
    const disagreements: string[] = [];
    for (const reference of asked) {
      const engine = await engineParses(reference);
      const berth = imageReferenceProblem(reference) === undefined && IMAGE_REFERENCE.test(reference);
      if (engine.valid !== berth) disagreements.push(`${JSON.stringify(reference)}: engine ${engine.valid ? 'accepts' : `refuses (${engine.message})`}, berth ${berth ? 'accepts' : `refuses (${imageReferenceProblem(reference)})`}`);
    }
    assert.deepEqual(disagreements, []);
    const accepted = asked.filter((reference) => imageReferenceProblem(reference) === undefined).length;
    assert.ok(accepted > 100 && asked.length - accepted > 100, `${accepted} of ${asked.length} accepted: too few of one kind to compare`);
  });
});

/**
 * References the engine can be asked about through GET /images/{name}/json: the HTTP server cleans the
 * path first, so a reference with an empty, `.` or `..` part cannot be asked. Left out as well: a 64-digit
 * hex string, which that endpoint reads as an image ID (a pull refuses it, as berth does), and an upper-case
 * first part without `.` or `:` (`Foo/bar`), which Docker 20 refuses as berth does but newer engines take
 * for a registry host.
 */
function askable(reference: string): boolean {
  if (/^[a-f0-9]{64}$/.test(reference)) return false;
  const parts = reference.split('@')[0].split('/');
  if (parts.some((part) => part === '' || part === '.' || part === '..')) return false;
  return !(parts.length > 1 && /[A-Z]/.test(parts[0]) && !/[.:]/.test(parts[0]));
}

/** The engine's verdict: 404 (no such image) or 200 is a reference it parsed, 400 one it refused. */
function engineParses(reference: string): Promise<{ valid: boolean; message: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: defaultSocketPath(), path: `/images/${encodeURIComponent(reference)}/json`, timeout: 10_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        if (body.length < 64 * 1024) body += chunk;
      });
      res.on('end', () => {
        const message = res.statusCode === 200 ? '' : String((JSON.parse(body) as { message?: unknown }).message);
        // The engine names what it parsed: proof it was asked about exactly this reference.
        if (res.statusCode !== 200 && !message.startsWith(`no such image: ${reference}`)) reject(new Error(`the engine answered about something else: ${res.statusCode} ${message}`));
        else if (res.statusCode === 200 || res.statusCode === 404) resolve({ valid: true, message });
        else if (res.statusCode === 400) resolve({ valid: false, message });
        else reject(new Error(`unexpected answer ${res.statusCode} for ${JSON.stringify(reference)}: ${message}`));
      });
    });
    req.on('timeout', () => req.destroy(new Error('the engine did not answer within 10s')));
    req.on('error', reject);
    req.end();
  });
}

/** Near-references: valid ones built part by part, then bent by one edit. Seeded, so every run asks the same. */
function corpus(count: number): string[] {
  // mulberry32: small, and random in its low bits too (a plain LCG modulo 2^31 is not).
  let seed = 20240611;
  const next = (n: number) => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) % n;
  };
  const pick = <T>(items: readonly T[]): T => items[next(items.length)];
  const hosts = ['', '', 'ghcr.io/', 'localhost/', 'localhost:5000/', '127.0.0.1:5055/', 'Reg.Example.com/', 'a-b.io:1/'];
  const parts = ['a', 'redis', 'web', 'a.b', 'a_b', 'a__b', 'a-b', 'a--b', 'x1', '9'];
  const tags = ['', '', ':7', ':latest', ':v1.4.0-rc.1', ':_x', ':A'];
  const digests = ['', '', '', `@sha256:${hex(64, '1')}`];
  const edits = 'aZ09._-/:@ '.split('');
  const out: string[] = [];
  while (out.length < count) {
    const path = Array.from({ length: 1 + next(3) }, () => pick(parts)).join('/');
    let reference = pick(hosts) + path + pick(tags) + pick(digests);
    const at = next(reference.length + 1);
    const edit = next(4);
    if (edit === 1) reference = reference.slice(0, at) + pick(edits) + reference.slice(at);
    else if (edit === 2) reference = reference.slice(0, at) + reference.slice(at + 1);
    else if (edit === 3) reference = reference.slice(0, at) + pick(edits) + reference.slice(at + 1);
    if (reference !== '') out.push(reference);
  }
  return out;
}
