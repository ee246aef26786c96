import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { createGzip, gzipSync } from 'node:zlib';
import { buildTar } from '../../src/archive/archive.test-support.ts';
import { appCopy, TestBerth } from '../support/berth.ts';

/**
 * Bad input gets a clear error with a stable code, and nothing is written: no app, no release, no
 * files left in the data directory.
 */
let berth: TestBerth;
before(async () => {
  berth = await TestBerth.start();
});
after(async () => {
  await berth?.close();
});

function assertNothingWritten(): void {
  const uploads = join(berth.dataDir, 'uploads');
  assert.deepEqual(existsSync(uploads) ? readdirSync(uploads) : [], [], 'no upload left behind');
  const builds = join(berth.dataDir, 'runtime', 'process', 'builds');
  assert.deepEqual(existsSync(builds) ? readdirSync(builds) : [], [], 'no build made');
}

const packageJson = JSON.stringify({ name: 'x', type: 'module', scripts: { start: 'node server.js' } });
const tarOf = (files: Record<string, string>) => gzipSync(buildTar(Object.entries(files).map(([name, data]) => ({ name, data }))));

describe('malformed berth.yaml', () => {
  const cases: [string, string, string][] = [
    ['not YAML', 'name: [unclosed', 'line 1'],
    ['a list at the top', '- name: x', '(top level)'],
    ['a misspelt section', 'helth:\n  path: /h', 'health'],
    ['an unknown nested key', 'health:\n  paht: /h', 'health.paht'],
    ['replicas as text', 'processes:\n  web:\n    replicas: two', 'processes.web.replicas'],
    ['replicas out of range', 'processes:\n  web:\n    replicas: 0', 'processes.web.replicas'],
    ['a duration without unit', 'health:\n  interval: 5', 'health.interval'],
    ['a duration in words', 'health:\n  interval: 5 sec', 'health.interval'],
    ['an invalid app name', 'name: Hello_World', 'name'],
    ['a health path without slash', 'health:\n  path: health', 'health.path'],
    ['an unknown strategy', 'deploy:\n  strategy: yolo', 'deploy.strategy'],
    ['an invalid env name', 'env:\n  MY-VAR: x', 'env'],
    ['a reserved env name', 'env:\n  PORT: "1"', 'env.PORT'],
    ['a duplicate key', 'name: a\nname: b', 'name'],
    ['an invalid domain', 'domains:\n  - "not a domain"', 'domains[0]'],
  ];
  for (const [what, yaml, path] of cases) {
    test(`${what}: 422 MANIFEST_INVALID naming ${path}`, async () => {
      const reply = await berth.uploadBytes('shape', tarOf({ 'berth.yaml': yaml, 'package.json': packageJson, 'server.js': '' }));
      assert.equal(reply.status, 422, JSON.stringify(reply.body));
      assert.equal(reply.body.error.code, 'MANIFEST_INVALID');
      assert.ok(reply.body.error.message.includes(path), `message names ${path}: ${reply.body.error.message}`);
      assert.ok(reply.body.error.details.issues.length >= 1);
      assert.equal((await berth.api('GET', '/v1/apps/shape')).status, 404, 'no app was created');
      assertNothingWritten();
    });
  }
});

describe('unsafe archives', () => {
  const cases: [string, Parameters<typeof buildTar>[0]][] = [
    ['a ../ path', [{ name: '../escape.txt', data: 'x' }]],
    ['a nested ../ path', [{ name: 'a/../../escape.txt', data: 'x' }]],
    ['an absolute path', [{ name: '/tmp/escape.txt', data: 'x' }]],
    ['a symlink', [{ name: 'link', typeflag: '2', linkname: '/etc/passwd' }]],
    ['a hard link', [{ name: 'hard', typeflag: '1', linkname: '/etc/passwd' }]],
    ['a PAX path escaping', [{ name: 'innocent.txt', data: 'x', pax: { path: '../../escape.txt' } }]],
  ];
  for (const [what, entries] of cases) {
    test(`${what}: 400 ARCHIVE_UNSAFE_ENTRY and nothing written`, async () => {
      const reply = await berth.uploadBytes('tarball', gzipSync(buildTar([{ name: 'berth.yaml', data: '' }, ...entries])));
      assert.equal(reply.status, 400, JSON.stringify(reply.body));
      assert.equal(reply.body.error.code, 'ARCHIVE_UNSAFE_ENTRY');
      assert.ok(!existsSync(join(berth.dataDir, 'escape.txt')) && !existsSync('/tmp/escape.txt'));
      assert.equal((await berth.api('GET', '/v1/apps/tarball')).status, 404);
      assertNothingWritten();
    });
  }

  test('not gzip at all: 400 ARCHIVE_INVALID', async () => {
    const reply = await berth.uploadBytes('tarball', Buffer.from('this is not an archive'));
    assert.equal(reply.status, 400);
    assert.equal(reply.body.error.code, 'ARCHIVE_INVALID');
    assertNothingWritten();
  });
});

describe('requests', () => {
  test('a missing or wrong token is refused on every endpoint', async () => {
    for (const path of ['/v1/info', '/v1/apps', '/v1/apps/x', '/v1/apps/x/env', '/v1/deployments/x', '/v1/nope']) {
      const none = await fetch(berth.apiUrl + path);
      assert.equal(none.status, 401, path);
      assert.equal(((await none.json()) as { error: { code: string } }).error.code, 'AUTH_REQUIRED');
      const wrong = await fetch(berth.apiUrl + path, { headers: { authorization: 'Bearer berth_wrong' } });
      assert.equal(wrong.status, 401, path);
      const body = (await wrong.json()) as { error: { code: string; hint: string } };
      assert.equal(body.error.code, 'AUTH_INVALID');
      assert.match(body.error.hint, /admin-token/);
    }
  });

  test('an unknown app is 404 APP_NOT_FOUND everywhere', async () => {
    for (const [method, path, body] of [
      ['GET', '/v1/apps/ghost'],
      ['GET', '/v1/apps/ghost/releases'],
      ['GET', '/v1/apps/ghost/logs'],
      ['GET', '/v1/apps/ghost/env'],
      ['PATCH', '/v1/apps/ghost/env', { set: { A: 'b' } }],
      ['POST', '/v1/apps/ghost/rollback', {}],
      ['DELETE', '/v1/apps/ghost'],
    ] as [string, string, unknown?][]) {
      const reply = await berth.api(method, path, body);
      assert.equal(reply.status, 404, `${method} ${path}`);
      assert.equal(reply.body.error.code, 'APP_NOT_FOUND');
      assert.match(reply.body.error.hint, /berth apps/);
    }
    assert.equal((await berth.api('GET', '/v1/deployments/dep_nope')).body.error.code, 'DEPLOYMENT_NOT_FOUND');
  });

  test('invalid names, bodies and content types are 400 with the field named', async () => {
    assert.equal((await berth.api('GET', '/v1/apps/Bad_Name')).body.error.code, 'APP_NAME_INVALID');
    const badEscape = await berth.api('GET', '/v1/apps/%E0%A4');
    assert.equal(badEscape.status, 404, 'a path that is not valid percent-encoding matches no route');
    assert.equal(badEscape.body.error.code, 'ROUTE_NOT_FOUND');
    const wrongMethod = await berth.api('PUT', '/v1/apps');
    assert.deepEqual([wrongMethod.status, wrongMethod.body.error.code, wrongMethod.headers?.allow], [405, 'METHOD_NOT_ALLOWED', 'GET, POST']);
    await berth.api('POST', '/v1/apps', { name: 'envy' });
    const bigJson = await berth.api('PATCH', '/v1/apps/envy/env', { set: { BIG: 'x'.repeat(1_100_000) } });
    assert.deepEqual([bigJson.status, bigJson.body.error.code], [413, 'BODY_TOO_LARGE']);
    assert.doesNotMatch(bigJson.body.error.hint, /berthignore/, 'the upload hint is for uploads');
    const badJson = await fetch(`${berth.apiUrl}/v1/apps/envy/env`, { method: 'PATCH', headers: { authorization: `Bearer ${berth.token}` }, body: '{nope' });
    assert.equal(badJson.status, 400);
    assert.equal(((await badJson.json()) as { error: { code: string } }).error.code, 'BODY_INVALID');
    const badName = await berth.api('PATCH', '/v1/apps/envy/env', { set: { '1BAD': 'x' } });
    assert.equal(badName.body.error.code, 'ENV_NAME_INVALID');
    const reserved = await berth.api('PATCH', '/v1/apps/envy/env', { set: { BERTH_APP: 'x' } });
    assert.equal(reserved.body.error.code, 'ENV_NAME_RESERVED');
    const notString = await berth.api('PATCH', '/v1/apps/envy/env', { set: { A: 1 } });
    assert.equal(notString.body.error.code, 'REQUEST_INVALID');
    assert.match(notString.body.error.message, /set\.A/);
    const wrongType = await fetch(`${berth.apiUrl}/v1/apps/envy/deploys`, { method: 'POST', headers: { authorization: `Bearer ${berth.token}`, 'content-type': 'application/json' }, body: '{}' });
    assert.equal(wrongType.status, 400);
    assert.match(((await wrongType.json()) as { error: { message: string } }).error.message, /application\/gzip/);
    assert.equal((await berth.api('GET', '/v1/apps/envy/env')).body.vars.length, 0, 'nothing was set by the refused requests');
    assert.equal((await berth.api('POST', '/v1/apps/envy/rollback', {})).body.error.code, 'APP_HAS_NO_RELEASE');
  });

  test('a second deploy while one runs is refused with 409, or queued with ?wait=1', async () => {
    const slow = appCopy('versioned', {
      'berth.yaml': 'name: busy\n',
      'package.json': JSON.stringify({ name: 'busy', type: 'module', scripts: { build: 'sleep 2', start: 'node server.js' } }),
    });
    const first = await berth.upload('busy', slow);
    assert.equal(first.status, 202);
    const second = await berth.upload('busy', slow);
    assert.equal(second.status, 409);
    assert.equal(second.body.error.code, 'DEPLOY_IN_PROGRESS');
    assert.match(second.body.error.hint, /--wait/);
    const queued = await berth.upload('busy', slow, '?wait=1');
    assert.equal(queued.status, 202);
    assert.equal((await berth.settle(first.body.deployment.id)).state === 'failed', false);
    const last = await berth.settle(queued.body.deployment.id);
    assert.ok(['draining', 'succeeded'].includes(last.state));
    assert.equal(last.release.name, 'v2');
  });
});

describe('upload size', () => {
  let small: TestBerth;
  before(async () => {
    small = new TestBerth();
    await small.startDaemon(['--max-upload', '64kb']);
  });
  after(async () => {
    await small?.close();
  });

  test('an upload over --max-upload is 413 BODY_TOO_LARGE and nothing is written', async () => {
    const reply = await small.uploadBytes('big', gzipSync(buildTar([{ name: 'berth.yaml', data: '' }, { name: 'noise.bin', data: randomBytes(256 * 1024) }])));
    assert.equal(reply.status, 413);
    assert.equal(reply.body.error.code, 'BODY_TOO_LARGE');
    assert.match(reply.body.error.hint, /berthignore|max-upload/);
    assert.deepEqual(readdirSync(join(small.dataDir, 'uploads')), []);
    assert.equal((await small.api('GET', '/v1/apps/big')).status, 404);
  });

  test('a streamed upload without Content-Length is cut at the limit: the client still reads the 413', async () => {
    // A valid tar of one 12 MiB file, streamed: only its size is wrong.
    const size = 200 * 64 * 1024;
    const header = buildTar([{ name: 'big.bin', size }], { end: false }).subarray(0, 512);
    const body = Readable.toWeb(Readable.from((async function* () {
      yield header;
      for (let i = 0; i < 200; i++) yield randomBytes(64 * 1024);
    })()).pipe(createGzip({ level: 0 })));
    const res = await fetch(`${small.apiUrl}/v1/apps/big/deploys`, {
      method: 'POST',
      headers: { authorization: `Bearer ${small.token}`, 'content-type': 'application/gzip' },
      body,
      duplex: 'half',
    } as RequestInit);
    const reply = (await res.json()) as { error: { code: string } };
    assert.equal(res.status, 413, JSON.stringify(reply));
    assert.equal(reply.error.code, 'BODY_TOO_LARGE');
    assert.deepEqual(readdirSync(join(small.dataDir, 'uploads')), []);
  });
});
