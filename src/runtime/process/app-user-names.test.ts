import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appOfUser, appUserComment, appUserName, parsePasswd, type PasswdEntry } from './app-user-names.ts';

// useradd's default NAME_REGEX, and under 32 characters.
const VALID = /^[a-z][-a-z0-9_]{0,30}$/;

test('app user names are valid for useradd, stable per owner and app, and distinct across owners and apps', () => {
  const apps = ['shop', 'a', 'x'.repeat(18), 'x'.repeat(19), 'x'.repeat(40), 'My.App_1', 'my-app-1', '0day'];
  const names = new Set<string>();
  for (const app of apps) {
    const name = appUserName('own_1', app);
    assert.match(name, VALID, app);
    assert.equal(appUserName('own_1', app), name, 'stable');
    assert.notEqual(appUserName('own_2', app), name, 'another berth on the host gets another user');
    names.add(name);
  }
  assert.equal(names.size, apps.length, 'one user per app');
  assert.match(appUserName('own_1', 'shop'), /^berth-[0-9a-f]{6}-shop$/, 'readable in ps and ls');
});

test('only users whose comment names this owner and the app the name is for count as berth\'s', () => {
  const entry = (name: string, comment: string): PasswdEntry => ({ name, uid: 990, gid: 990, comment, home: '/nonexistent' });
  const name = appUserName('own_1', 'shop');
  assert.equal(appOfUser('own_1', entry(name, appUserComment('own_1', 'shop'))), 'shop');
  assert.equal(appOfUser('own_2', entry(name, appUserComment('own_1', 'shop'))), null, 'another berth\'s user');
  assert.equal(appOfUser('own_1', entry(name, '')), null, 'a user berth did not make');
  assert.equal(appOfUser('own_1', entry(name, appUserComment('own_1', 'blog'))), null, 'a comment for another app');
  assert.equal(appOfUser('own_1', entry('root', appUserComment('own_1', 'shop'))), null, 'a comment copied onto another user');
});

test('parsePasswd reads the seven fields and skips what is not an entry', () => {
  const text = ['root:x:0:0:root:/root:/bin/bash', '', '# comment', 'bad:x:zero:0::/:/bin/sh', 'short:x:1', 'berth-abc-shop:x:990:985:berth app shop owner 0123456789abcdef:/data/homes/berth-abc-shop:/usr/sbin/nologin'].join('\n');
  assert.deepEqual(parsePasswd(text), [
    { name: 'root', uid: 0, gid: 0, comment: 'root', home: '/root' },
    { name: 'berth-abc-shop', uid: 990, gid: 985, comment: 'berth app shop owner 0123456789abcdef', home: '/data/homes/berth-abc-shop' },
  ]);
});
