import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CliError } from './errors.ts';
import { DEFAULT_URL, loadTarget, loginFile, normalizeUrl, readLocalServer, readLogin, removeLogin, resolveTarget, writeLogin, type LocalServer } from './config.ts';
import { withTempDir } from './cli.test-support.ts';

const local: LocalServer = { dataDir: '/data', apiInfo: { url: 'http://127.0.0.1:7272', pid: 42 }, adminToken: 'admin' };
const login = { url: 'https://berth.example.com/', token: 'saved' };

test('precedence: flags, then env, then the saved login, then the local server', () => {
  const env = { BERTH_URL: 'http://env.example:7171', BERTH_TOKEN: 'env-token' };
  assert.deepEqual(resolveTarget({ flags: { url: 'http://flag.example', token: 'flag-token' }, env, login, local }), {
    url: 'http://flag.example',
    token: 'flag-token',
    source: 'flag',
  });
  assert.deepEqual(resolveTarget({ flags: {}, env, login, local }), { url: 'http://env.example:7171', token: 'env-token', source: 'env' });
  assert.deepEqual(resolveTarget({ flags: {}, env: {}, login, local }), { url: 'https://berth.example.com', token: 'saved', source: 'login' });
  assert.deepEqual(resolveTarget({ flags: {}, env: {}, local }), { url: 'http://127.0.0.1:7272', token: 'admin', source: 'local' });
  assert.deepEqual(resolveTarget({ flags: {}, env: {}, local: { dataDir: '/data' } }), { url: DEFAULT_URL, source: 'local' });
});

test('empty env values count as unset', () => {
  assert.deepEqual(resolveTarget({ flags: {}, env: { BERTH_URL: '', BERTH_TOKEN: '' }, local }), { url: 'http://127.0.0.1:7272', token: 'admin', source: 'local' });
});

test('a flag token goes with an env URL, and an env token with the saved URL', () => {
  assert.deepEqual(resolveTarget({ flags: { token: 'f' }, env: { BERTH_URL: 'http://e' }, local }), { url: 'http://e', token: 'f', source: 'env' });
  assert.deepEqual(resolveTarget({ flags: {}, env: { BERTH_TOKEN: 'e' }, login, local }), { url: 'https://berth.example.com', token: 'e', source: 'login' });
});

test('saved and local tokens are only sent to their own server', () => {
  // --url elsewhere: neither the saved token nor the admin token may leak to it.
  assert.deepEqual(resolveTarget({ flags: { url: 'http://elsewhere' }, env: {}, login, local }), { url: 'http://elsewhere', source: 'flag' });
  // --url naming the saved server (spelt differently) gets the saved token.
  assert.deepEqual(resolveTarget({ flags: { url: 'https://BERTH.example.com' }, env: {}, login, local }).token, 'saved');
  // --url naming the local server gets the admin token.
  assert.deepEqual(resolveTarget({ flags: { url: 'http://127.0.0.1:7272/' }, env: {}, login, local }).token, 'admin');
  // Without api.json, the local server is the default address.
  assert.equal(resolveTarget({ flags: { url: DEFAULT_URL }, env: {}, local: { dataDir: '/d', adminToken: 'a' } }).token, 'a');
});

test('URLs are checked and spelt one way', () => {
  assert.equal(normalizeUrl('http://127.0.0.1:7171/'), 'http://127.0.0.1:7171');
  assert.equal(normalizeUrl(' https://example.com/berth/ '), 'https://example.com/berth');
  for (const bad of ['127.0.0.1:7171', 'ftp://x', 'http://user:pw@x', 'http://x/?token=1', 'nonsense']) {
    assert.throws(() => normalizeUrl(bad), (error) => error instanceof CliError && error.exitCode === 2, bad);
  }
  assert.throws(() => resolveTarget({ flags: {}, env: { BERTH_URL: 'nope' }, local }), /BERTH_URL "nope" is not a URL/);
});

test('the login file follows XDG_CONFIG_HOME, else HOME', () => {
  assert.equal(loginFile({ XDG_CONFIG_HOME: '/x', HOME: '/h' }), '/x/berth/config.json');
  assert.equal(loginFile({ HOME: '/h' }), '/h/.config/berth/config.json');
});

test('login file: written atomically with mode 0600, read back, removed', async () => {
  await withTempDir(async (dir) => {
    const file = loginFile({ XDG_CONFIG_HOME: join(dir, 'config') });
    assert.equal(await readLogin(file), undefined);
    writeLogin(file, { url: 'http://a', token: 't1' });
    writeLogin(file, { url: 'http://b', token: 't2' });
    assert.deepEqual(await readLogin(file), { url: 'http://b', token: 't2' });
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    assert.deepEqual(await readdir(join(dir, 'config', 'berth')), ['config.json'], 'no temp files left');
    assert.equal(await removeLogin(file), true);
    assert.equal(await removeLogin(file), false);
  });
});

test('a corrupt login file is an error that says how to fix it', async () => {
  await withTempDir(async (dir) => {
    const file = join(dir, 'config.json');
    await writeFile(file, '{');
    await assert.rejects(readLogin(file), (error) => error instanceof CliError && /berth login/.test(error.hint ?? ''));
    await writeFile(file, '{"url": "http://x"}');
    await assert.rejects(readLogin(file), /does not hold a url and a token/);
  });
});

test('the local server: api.json and admin-token from the data directory, both optional', async () => {
  await withTempDir(async (dir) => {
    assert.deepEqual(await readLocalServer(dir), { dataDir: dir });
    await mkdir(join(dir, 'run'));
    await writeFile(join(dir, 'run', 'api.json'), '{"url":"http://127.0.0.1:39999","pid":7}');
    await writeFile(join(dir, 'admin-token'), 'secret\n');
    assert.deepEqual(await readLocalServer(dir), { dataDir: dir, apiInfo: { url: 'http://127.0.0.1:39999', pid: 7 }, adminToken: 'secret' });
    await writeFile(join(dir, 'run', 'api.json'), '{"url":');
    assert.deepEqual(await readLocalServer(dir), { dataDir: dir, adminToken: 'secret' }, 'a half-written api.json is ignored');
  });
});

test('loadTarget reads BERTH_DATA and XDG_CONFIG_HOME from the env it is given, never the real home', async () => {
  await withTempDir(async (dir) => {
    const data = join(dir, 'data');
    const env = { BERTH_DATA: data, XDG_CONFIG_HOME: join(dir, 'config'), HOME: join(dir, 'home') };
    await mkdir(join(data, 'run'), { recursive: true });
    await writeFile(join(data, 'run', 'api.json'), '{"url":"http://127.0.0.1:40001"}');
    await writeFile(join(data, 'admin-token'), 'adm');
    assert.deepEqual(await loadTarget({}, env), { url: 'http://127.0.0.1:40001', token: 'adm', source: 'local' });
    writeLogin(loginFile(env), { url: 'https://remote.example', token: 'r' });
    assert.deepEqual(await loadTarget({}, env), { url: 'https://remote.example', token: 'r', source: 'login' });
    assert.deepEqual(await loadTarget({ url: 'http://127.0.0.1:40001' }, env), { url: 'http://127.0.0.1:40001', token: 'adm', source: 'flag' });
  });
});
