import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { buildTar, type RawEntry } from '../../src/archive/archive.test-support.ts';
import { appCopy, ROOT, TestBerth } from '../support/berth.ts';
import { waitFor } from '../support/http.ts';

/**
 * Uploads that deploy (process runtime): what no upload may hold never reaches a build, whoever made the
 * archive, and names that Object.prototype also has work end to end (issue 7, findings 5 and 8).
 */
let berth: TestBerth;
before(async () => {
  berth = await TestBerth.start();
});
after(async () => {
  await berth?.close();
});

/** Every path under `dir` whose name is an env file or `.git`, as the packer defines them. */
function forbiddenUnder(dir: string): string[] {
  const found: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.name === '.git' || entry.name.startsWith('.env')) found.push(join(entry.parentPath, entry.name));
  }
  return found;
}

test('.env files and .git in an archive made without the CLI never reach the build', async () => {
  const fixture = join(ROOT, 'test', 'fixtures', 'apps', 'versioned');
  const entries: RawEntry[] = readdirSync(fixture).map((name) => ({ name, data: readFileSync(join(fixture, name)) }));
  entries.push(
    { name: '.env', data: 'SECRET_TOKEN=leaked-from-dotenv\n' },
    { name: '.env.production', data: 'SECRET_TOKEN=leaked\n' },
    { name: 'config/.env.local', data: 'SECRET_TOKEN=leaked\n' },
    { name: 'config/app.json', data: '{}' },
    { name: '.git/', typeflag: '5' },
    { name: '.git/config', data: '[remote "origin"]\n\turl = https://token@example.com/repo.git\n' },
  );
  const reply = await berth.uploadBytes('dotenv', gzipSync(buildTar(entries)), '?wait=1');
  assert.equal(reply.status, 202, JSON.stringify(reply.body));
  const deployment = await berth.settle(reply.body.deployment.id);
  assert.ok(['draining', 'succeeded'].includes(deployment.state), JSON.stringify(deployment.error));
  const builds = join(berth.dataDir, 'runtime', 'process', 'builds');
  const built = readdirSync(builds);
  assert.equal(built.length, 1);
  assert.ok(existsSync(join(builds, built[0], 'config', 'app.json')), 'the build holds the rest of the upload');
  assert.deepEqual(forbiddenUnder(berth.dataDir), []);
  const log = berth.daemonLog;
  assert.match(log, /upload: left out what no upload may hold.*"count":5/);
  assert.doesNotMatch(log, /leaked/);
});

test('env names and a process name that Object.prototype also has work end to end', async (t) => {
  const out = join(tmpdir(), `berth-names-${randomBytes(6).toString('hex')}.json`);
  t.after(() => rmSync(out, { force: true }));
  const names = ['constructor', 'toString', 'hasOwnProperty', '__proto__', 'valueOf'];
  const dir = appCopy('versioned', {
    'berth.yaml': [
      'processes:',
      '  web: node server.js',
      '  constructor: node worker.js',
      'env:',
      ...names.map((name) => `  ${name}: value-of-${name}`),
      `  OUT_FILE: ${out}`,
      '',
    ].join('\n'),
    // Writes the variables it got, then stays up like a worker.
    'worker.js': [
      "import { writeFileSync } from 'node:fs';",
      `const names = ${JSON.stringify(names)};`,
      'const seen = Object.fromEntries(Object.entries(process.env).filter(([name]) => names.includes(name)));',
      'writeFileSync(process.env.OUT_FILE, JSON.stringify(seen));',
      'setInterval(() => {}, 60_000);',
      '',
    ].join('\n'),
  });
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const deployment = await berth.deploy('names', dir);
  assert.equal(deployment.release.name, 'v1');
  const seen = await waitFor('the constructor process to write its environment', () => (existsSync(out) ? JSON.parse(readFileSync(out, 'utf8')) : undefined), 30_000);
  assert.deepEqual(Object.entries(seen).sort(), names.map((name) => [name, `value-of-${name}`]).sort());
  const app = await berth.api('GET', '/v1/apps/names');
  assert.equal(app.status, 200);
});
