import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { buildTar } from '../../src/archive/archive.test-support.ts';
import { MANIFEST_LIMITS } from '../../src/manifest/limits.ts';
import { TestBerth, type ApiReply } from '../support/berth.ts';

/**
 * berth.yaml files made to hurt the daemon (issue 7, findings 3 and 5): each is refused with a 4xx that
 * names the limit or the key, nothing stays behind, and the API answers other requests meanwhile.
 */
let berth: TestBerth;
before(async () => {
  berth = await TestBerth.start();
});
after(async () => {
  await berth?.close();
});

const packageJson = JSON.stringify({ name: 'x', type: 'module', scripts: { start: 'node server.js' } });
const uploadOf = (manifest: string | Buffer) =>
  gzipSync(buildTar([{ name: 'berth.yaml', data: manifest }, { name: 'package.json', data: packageJson }, { name: 'server.js', data: '' }]));

/** Uploads while asking the API something else; both answers, once both came. */
async function uploadWhileAsking(app: string, upload: Buffer): Promise<{ upload: ApiReply; other: ApiReply }> {
  const [reply, other] = await Promise.all([berth.uploadBytes(app, upload), berth.api('GET', '/v1/apps')]);
  return { upload: reply, other };
}

function assertNothingLeft(app: string): Promise<void> {
  const uploads = join(berth.dataDir, 'uploads');
  assert.deepEqual(existsSync(uploads) ? readdirSync(uploads) : [], [], 'no upload left behind');
  return berth.api('GET', `/v1/apps/${app}`).then((reply) => assert.equal(reply.status, 404, 'no app was created'));
}

function assertRefusal(reply: ApiReply, message: RegExp): void {
  assert.equal(reply.status, 422, JSON.stringify(reply.body));
  assert.equal(reply.body.error.code, 'MANIFEST_INVALID');
  // Named as the user knows it, never by its path under the data directory.
  assert.ok(reply.body.error.message.startsWith('berth.yaml is not valid:\n'), reply.body.error.message);
  assert.ok(!reply.body.error.message.includes(berth.dataDir), reply.body.error.message);
  assert.match(reply.body.error.message, message);
}

test('200,000 env keys: a 4xx at once, naming the size limit, while the API answers', async () => {
  const manifest = `env:\n${Array.from({ length: 200_000 }, (_, i) => `  KEY_${i}: value\n`).join('')}`;
  const { upload, other } = await uploadWhileAsking('keys', uploadOf(manifest));
  assertRefusal(upload, /the file is \d+ bytes, more than the 65536 bytes \(64 KB\) berth reads/);
  assert.equal(other.status, 200);
  await assertNothingLeft('keys');
});

test('a 20 MB berth.yaml of comments is refused from its size, not read', async () => {
  const manifest = Buffer.alloc(20 * 1024 ** 2, '# nothing to see here\n');
  const { upload } = await uploadWhileAsking('comments', uploadOf(manifest));
  assertRefusal(upload, /more than the 65536 bytes \(64 KB\) berth reads/);
  await assertNothingLeft('comments');
});

test('the slowest YAML within the limits is judged off the main thread: a 4xx while the API answers', async () => {
  const half = MANIFEST_LIMITS.maxBytes / 2 - 8;
  const { upload, other } = await uploadWhileAsking('nested', uploadOf(`${'['.repeat(half)}${']'.repeat(half)}\n`));
  assertRefusal(upload, /(nested more than 32 levels deep|needed more than \d+ MB of memory)/);
  assert.equal(other.status, 200);
  await assertNothingLeft('nested');
});

test('more keys than the limit, through aliases: a 4xx naming the limit', async () => {
  const anchor = `x: &m {${Array.from({ length: 50 }, (_, i) => `k${i}: 1`).join(', ')}}\n`;
  const { upload } = await uploadWhileAsking('aliases', uploadOf(`${anchor}y: [${Array.from({ length: 100 }, () => '*m').join(', ')}]\n`));
  assertRefusal(upload, /more than 2000 keys \(counting those that aliases repeat\)/);
  await assertNothingLeft('aliases');
});

test('process and service names from Object.prototype: a clear 422, never a 500', async () => {
  for (const [manifest, message] of [
    ['processes:\n  toString: node a.js\n', /processes\.toString: line 2: `toString` is not a valid process name/],
    ['processes:\n  hasOwnProperty: node a.js\n', /`hasOwnProperty` is not a valid process name/],
    ['services:\n  __proto__: redis:7\n', /`__proto__` is not a valid service name/],
    ['constructor: 1\n', /unknown top-level key `constructor`; the keys allowed here are/],
    ['processes:\n  web: node server.js\n  worker:\n    command: node w.js\n    depends_on: [constructor]\n', /`constructor` is not a process or service of this app/],
  ] as const) {
    const { upload } = await uploadWhileAsking('names', uploadOf(manifest));
    assertRefusal(upload, message);
    assert.doesNotMatch(upload.body.error.message, /native code|\[object Object\]/);
    await assertNothingLeft('names');
  }
});
