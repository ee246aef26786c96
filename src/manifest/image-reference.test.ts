/**
 * berth.yaml's words for image references, its JSON Schema pattern and its fixes. The grammar itself, and
 * its comparison with a real engine, are tested next to it: ../lib/image-reference*.test.ts.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { nearReferences } from '../lib/image-reference.test-support.ts';
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
  // Every engine parses it as a name on no registry, and none can pull it (`Get "https:/v2/": no Host`).
  ['ex_ample.com/x', /^`ex_ample.com` is not a valid registry host/],
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
    for (const reference of nearReferences(4000)) {
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
