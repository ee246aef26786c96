/** image-ref.ts: what POST /images/create is asked. (Which registry a reference names: ../../lib/image-reference.test.ts.) */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isBerthError } from '../../errors/catalogue.ts';
import { isImageId, pullTarget } from './image-ref.ts';

const DIGEST = `sha256:${'ab'.repeat(32)}`;

test('the name and tag a pull asks for: never an empty tag (that pulls every tag of the repository)', () => {
  const cases: [string, { fromImage: string; tag: string }][] = [
    ['redis', { fromImage: 'redis', tag: 'latest' }],
    ['redis:7', { fromImage: 'redis', tag: '7' }],
    ['library/redis:7-alpine', { fromImage: 'library/redis', tag: '7-alpine' }],
    ['ghcr.io/acme/app:1.2.3', { fromImage: 'ghcr.io/acme/app', tag: '1.2.3' }],
    ['127.0.0.1:5055/team/app', { fromImage: '127.0.0.1:5055/team/app', tag: 'latest' }],
    ['127.0.0.1:5055/team/app:v2', { fromImage: '127.0.0.1:5055/team/app', tag: 'v2' }],
    [`127.0.0.1:5055/team/app@${DIGEST}`, { fromImage: '127.0.0.1:5055/team/app', tag: DIGEST }],
    [`ghcr.io/acme/app:1.2@${DIGEST}`, { fromImage: 'ghcr.io/acme/app', tag: DIGEST }],
    ['localhost:5000/app', { fromImage: 'localhost:5000/app', tag: 'latest' }],
  ];
  for (const [ref, expected] of cases) assert.deepEqual(pullTarget(ref), expected, ref);
});

test('an invalid reference is refused before the engine is asked, with the grammar\'s reason and fix', () => {
  const cases: [string, RegExp][] = [
    ['Redis:7', /uppercase letters/],
    ['ex_ample.com/x', /"ex_ample\.com" is not a valid registry host/],
    ['[::1]:5000/app', /IPv6/],
    ['redis:', /tag after ":" is empty/],
    [`redis@sha256:${'A'.repeat(64)}`, /64 lowercase hex digits/],
  ];
  for (const [ref, reason] of cases) {
    assert.throws(() => pullTarget(ref), (error) => isBerthError(error) && error.code === 'IMAGE_REFERENCE_INVALID' && reason.test(error.message) && error.hint !== undefined, ref);
  }
});

test('image ids are made here and never pulled; references are', () => {
  assert.equal(isImageId(`sha256:${'0f'.repeat(32)}`), true);
  for (const ref of ['redis:7', 'sha256:abc', `app@sha256:${'0f'.repeat(32)}`, '0f'.repeat(32)]) assert.equal(isImageId(ref), false, ref);
});
