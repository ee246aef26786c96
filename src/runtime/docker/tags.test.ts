import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ImageSummary } from './engine.ts';
import { splitRef, tagOwnImage, tagVerdict } from './tags.ts';

const image = (id: string, labels: Record<string, string> | null): ImageSummary => ({ Id: id, RepoTags: [], Labels: labels, Created: 0, Size: 0 });

test('tagVerdict: a free tag or one of this berth\'s images may move; anything else may not', () => {
  assert.deepEqual(tagVerdict(undefined, { ownerId: 'own_a' }), { ok: true });
  assert.deepEqual(tagVerdict(image('sha256:1', { 'berth.owner': 'own_a', 'berth.kind': 'image' }), { ownerId: 'own_a' }), { ok: true });
  assert.deepEqual(tagVerdict(image('sha256:0123456789abcdef', null), { ownerId: 'own_a' }), {
    ok: false,
    reason: 'it already names image 0123456789ab, which is not berth\'s (it has no berth.owner label)',
  });
  assert.deepEqual(tagVerdict(image('sha256:0123456789abcdef', { maintainer: 'someone' }), { ownerId: 'own_a' }), {
    ok: false,
    reason: 'it already names image 0123456789ab, which is not berth\'s (it has no berth.owner label)',
  });
  assert.deepEqual(tagVerdict(image('sha256:fedcba9876543210', { 'berth.owner': 'own_b' }), { ownerId: 'own_a' }), {
    ok: false,
    reason: 'it already names image fedcba987654, which is another berth\'s (berth.owner=own_b)',
  });
});

test('splitRef reads a ref as the engine does', () => {
  assert.deepEqual(splitRef('shop:v3'), { repo: 'shop', tag: 'v3' });
  assert.deepEqual(splitRef('shop:0a1b2c3d4e5f-dirty'), { repo: 'shop', tag: '0a1b2c3d4e5f-dirty' });
  assert.deepEqual(splitRef('registry:5000/shop:v3'), { repo: 'registry:5000/shop', tag: 'v3' });
  assert.deepEqual(splitRef('registry:5000/shop'), { repo: 'registry:5000/shop', tag: 'latest' });
  assert.deepEqual(splitRef('shop'), { repo: 'shop', tag: 'latest' });
});

/** An engine holding a map of ref -> image, recording the tag calls. */
function fakeEngine(refs: Record<string, ImageSummary>, options: { failInspect?: boolean } = {}) {
  const tagged: string[] = [];
  return {
    tagged,
    async inspectImage(ref: string) {
      if (options.failInspect) throw new Error('connect ENOENT /var/run/docker.sock');
      return refs[ref];
    },
    async tagImage(ref: string, repo: string, tag: string) {
      tagged.push(`${ref} -> ${repo}:${tag}`);
    },
  };
}

test('tagOwnImage tags a free ref, moves its own, leaves someone else\'s with a warning, and never throws', async () => {
  const own = { image: 'sha256:new', ownerId: 'own_a' };
  const engine = fakeEngine({
    'shop:v1': image('sha256:users', null),
    'shop:v2': image('sha256:old', { 'berth.owner': 'own_a' }),
    'shop:v3': image('sha256:new', { 'berth.owner': 'own_a' }),
    'shop:v4': image('sha256:theirs', { 'berth.owner': 'own_b' }),
  });
  assert.deepEqual(await tagOwnImage(engine, { ...own, ref: 'shop:v0' }), { ref: 'shop:v0', tagged: true });
  assert.deepEqual(await tagOwnImage(engine, { ...own, ref: 'shop:v2' }), { ref: 'shop:v2', tagged: true });
  assert.deepEqual(await tagOwnImage(engine, { ...own, ref: 'shop:v3' }), { ref: 'shop:v3', tagged: true }, 'already there: no call');
  const users = await tagOwnImage(engine, { ...own, ref: 'shop:v1' });
  assert.equal(users.tagged, false);
  assert.match(users.warning!, /^did not tag shop:v1: it already names image users, which is not berth's .*left as it is$/);
  assert.equal((await tagOwnImage(engine, { ...own, ref: 'shop:v4' })).tagged, false);
  assert.deepEqual(engine.tagged, ['sha256:new -> shop:v0', 'sha256:new -> shop:v2']);

  const down = await tagOwnImage(fakeEngine({}, { failInspect: true }), { ...own, ref: 'shop:v5' });
  assert.deepEqual(down, { ref: 'shop:v5', tagged: false, warning: 'did not tag shop:v5: connect ENOENT /var/run/docker.sock' });
});
