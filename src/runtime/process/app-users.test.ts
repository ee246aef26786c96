/**
 * The process driver run by root: builds, instances and their users, against the real useradd/userdel and
 * file system of this machine. Without root there are no app users; these tests then skip.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, lstatSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isBerthError } from '../../errors/catalogue.ts';
import { silentLogger } from '../../lib/log.ts';
import { writeFiles } from '../contract-fixtures.test-support.ts';
import { getJsonWhenUp, instanceSpec } from '../contract-helpers.test-support.ts';
import { appUserName } from './app-user-names.ts';
import { AppUsers } from './app-users.ts';
import { BUILD_MARKER } from './layout.ts';
import { readUids } from '../../lib/proc.ts';
import { processHarness, type ProcessHarness } from './harness.test-support.ts';

const skip = process.getuid?.() === 0 ? false : 'app users exist only when berth runs as root; run the tests as root to cover them';

const withHarness = async (body: (h: ProcessHarness) => Promise<void>) => {
  const h = await processHarness();
  try {
    await body(h);
  } finally {
    await h.cleanup();
  }
};

const passwdEntry = (name: string) => readFileSync('/etc/passwd', 'utf8').split('\n').find((line) => line.startsWith(`${name}:`));

test('app users: concurrent ensures of one app make one user, of another berth\'s another; remove deletes it and its home, twice', { skip, timeout: 60_000 }, () =>
  withHarness(async (h) => {
    const homes = join(h.root, 'homes');
    // Two drivers of one owner (a restarted one, the harness cleanup) share the user.
    const one = new AppUsers({ ownerId: h.ownerId, homes, log: silentLogger });
    const other = new AppUsers({ ownerId: h.ownerId, homes, log: silentLogger });
    const stranger = new AppUsers({ ownerId: `${h.ownerId}-other`, homes, log: silentLogger });
    const [users, strangers] = await Promise.all([
      Promise.all([one.ensure('race'), one.ensure('race'), other.ensure('race'), other.ensure('race'), one.ensure('race')]),
      Promise.all([stranger.ensure('race'), stranger.ensure('race')]),
    ]);
    assert.equal(new Set(users.map((u) => `${u.name}:${u.uid}:${u.gid}`)).size, 1, JSON.stringify(users));
    const [user] = users;
    assert.notEqual(user.uid, 0);
    assert.equal(readFileSync('/etc/passwd', 'utf8').split('\n').filter((line) => line.startsWith(`${user.name}:`)).length, 1);
    const home = statSync(user.home);
    assert.deepEqual([home.uid, home.gid, home.mode & 0o777], [user.uid, user.gid, 0o700], 'a private home for npm\'s cache');
    assert.deepEqual(one.apps(), ['race']);
    assert.equal(new Set(strangers.map((u) => u.uid)).size, 1);
    assert.notEqual(strangers[0].uid, user.uid, 'another berth on the host has a user of its own for its app of the same name');
    assert.notEqual(strangers[0].name, user.name);
    await stranger.remove('race');

    await Promise.all([one.remove('race'), other.remove('race')]);
    await one.remove('race');
    assert.equal(passwdEntry(user.name), undefined, 'the user is deleted');
    assert.equal(existsSync(user.home), false, 'and its home');
    assert.deepEqual(one.apps(), []);
  }),
);

test('app users: a user of the same name that berth did not make is refused, and never deleted', { skip, timeout: 30_000 }, () =>
  withHarness(async (h) => {
    const users = new AppUsers({ ownerId: h.ownerId, homes: join(h.root, 'homes'), log: silentLogger });
    const name = appUserName(h.ownerId, 'squatted');
    execFileSync('useradd', ['--system', '--user-group', '--no-create-home', '--comment', 'someone else', name]);
    try {
      await assert.rejects(users.ensure('squatted'), (error) => isBerthError(error) && error.code === 'APP_USER_FAILED' && error.message.includes('did not create'));
      await users.remove('squatted');
      assert.ok(passwdEntry(name), 'still there');
      assert.deepEqual(users.apps(), []);
    } finally {
      execFileSync('userdel', [name]);
    }
  }),
);

test('app users: a build runs as the app\'s user, cannot read root\'s files, and cannot make root write through a planted symlink', { skip, timeout: 60_000 }, () =>
  withHarness(async (h) => {
    const base = join(h.root, '..');
    const secret = join(base, 'root-only');
    writeFileSync(secret, 'root secret\n', { mode: 0o600 });
    const victim = join(base, 'victim');
    writeFileSync(victim, 'untouched\n', { mode: 0o644 });
    const source = await h.sourceFor('echo');
    const script = [
      "const fs = require('fs');",
      "fs.writeFileSync('uid.txt', String(process.getuid()));",
      `try { fs.writeFileSync('stolen.txt', fs.readFileSync(${JSON.stringify(secret)})); } catch (e) { fs.writeFileSync('stolen.txt', e.code); }`,
      `fs.symlinkSync(${JSON.stringify(victim)}, ${JSON.stringify(BUILD_MARKER)});`,
    ].join(' ');
    await writeFiles(source, { 'build.js': script, 'package.json': JSON.stringify({ name: 'b', version: '1.0.0', scripts: { build: 'node build.js', start: 'node server.js' } }) });
    const built = await h.driver.build({ app: 'builder', buildId: 'bld_iso1', sourceDir: source, signal: new AbortController().signal, log: () => {} });

    const uid = Number(readFileSync(join(built.artifact, 'uid.txt'), 'utf8'));
    assert.notEqual(uid, 0, 'the build step did not run as root');
    assert.equal(readFileSync(join(built.artifact, 'stolen.txt'), 'utf8'), 'EACCES');
    assert.equal(readFileSync(victim, 'utf8'), 'untouched\n', 'root did not write through the symlink');
    assert.ok(lstatSync(join(built.artifact, BUILD_MARKER)).isFile(), 'the marker replaced the symlink');
    const top = statSync(built.artifact);
    assert.deepEqual([top.uid, top.mode & 0o777], [uid, 0o700], 'the build is the app user\'s, closed to others');
    assert.equal(statSync(join(built.artifact, 'server.js')).uid, uid, 'the source files too');
  }),
);

test('app users: an artifact root built (before apps had users) is handed to the app at start; one of another app is refused', { skip, timeout: 30_000 }, () =>
  withHarness(async (h) => {
    const legacy = join(h.root, 'builds', 'bld_legacy');
    cpSync(await h.sourceFor('echo'), legacy, { recursive: true });
    assert.equal(statSync(legacy).uid, 0);
    const info = await h.driver.start(instanceSpec(legacy, { app: 'legacy' }));
    const uid = readUids(info.pid!)![0];
    assert.notEqual(uid, 0);
    assert.equal(statSync(legacy).uid, uid);
    assert.equal(statSync(join(legacy, 'server.js')).uid, uid);
    assert.equal((await getJsonWhenUp(info.address!, '/', 5_000)).version, 'v1');
    await h.driver.stop(info.id);

    await assert.rejects(h.driver.start(instanceSpec(legacy, { app: 'intruder' })), (error) => isBerthError(error) && error.code === 'START_FAILED' && /belongs to uid/.test(error.message));
  }),
);
