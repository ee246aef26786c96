/** image-ref.ts: what POST /images/create is asked, and which registry a reference names. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isImageId, pullTarget, registryOf } from './image-ref.ts';

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

test('the registry of a reference, as the engine picks it', () => {
  const cases: [string, string][] = [
    ['redis:7', 'docker.io'],
    ['acme/app:1', 'docker.io'],
    ['index.docker.io/acme/app:1', 'docker.io'],
    ['docker.io/library/redis:7', 'docker.io'],
    ['ghcr.io/acme/app:1', 'ghcr.io'],
    ['127.0.0.1:5055/team/app:v2', '127.0.0.1:5055'],
    ['localhost/app', 'localhost'],
    ['registry.internal:5000/a/b/c', 'registry.internal:5000'],
  ];
  for (const [ref, registry] of cases) assert.equal(registryOf(ref), registry, ref);
});

test('image ids are made here and never pulled; references are', () => {
  assert.equal(isImageId(`sha256:${'0f'.repeat(32)}`), true);
  for (const ref of ['redis:7', 'sha256:abc', `app@sha256:${'0f'.repeat(32)}`, '0f'.repeat(32)]) assert.equal(isImageId(ref), false, ref);
});
