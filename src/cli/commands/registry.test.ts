/**
 * `berth registry login|list|logout` through main() against a real HTTP server playing the API: what the
 * CLI sends, what it prints, and that a password only ever comes from stdin (never an argument, never
 * printed, never repeated in an error).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { RegistryLogin } from '../../model/wire.ts';
import { sendJson, startFakeApi, testIo, withTempDir, type FakeApi, type Handler, type TestIo } from '../cli.test-support.ts';
import { main } from '../main.ts';

const PASSWORD = 'pipe-only s3cret:with spaces';
const login: RegistryLogin = { host: 'ghcr.io', username: 'octo', createdAt: '2024-05-01T12:00:00Z', updatedAt: '2024-05-01T12:00:00Z' };

async function berth(argv: string[], routes: Record<string, Handler>, stdin?: string): Promise<{ code: number; io: TestIo; api: FakeApi }> {
  const api = await startFakeApi(routes);
  try {
    return await withTempDir(async (home) => {
      const io = testIo({ env: { BERTH_URL: api.url, BERTH_TOKEN: 'tok', HOME: home, XDG_CONFIG_HOME: join(home, 'config'), BERTH_DATA: join(home, 'data'), NO_COLOR: '1' }, cwd: home, stdin });
      return { code: await main(argv, io), io, api };
    });
  } finally {
    await api.close();
  }
}

const loginRoute: Record<string, Handler> = { 'PUT /v1/registries/ghcr.io': (_req, res) => sendJson(res, 201, login) };
const printed = (io: TestIo) => io.stdout.text + io.stderr.text;

test('login: the password piped with --password-stdin goes in the PUT body (its final newline dropped), and is never printed', async () => {
  const { code, io, api } = await berth(['registry', 'login', 'ghcr.io', '--username', 'octo', '--password-stdin'], loginRoute, `${PASSWORD}\n`);
  assert.equal(code, 0, io.stderr.text);
  assert.equal(api.requests.length, 1);
  assert.equal(api.requests[0].method, 'PUT');
  assert.deepEqual(JSON.parse(api.requests[0].body.toString()), { username: 'octo', password: PASSWORD });
  assert.equal(io.stdout.text, 'logged in to ghcr.io as octo: the registry accepted the login, and the server pulls from it with these credentials (kept sealed)\n');
  assert.ok(!printed(io).includes(PASSWORD));
});

test('login --json prints the API\'s answer; a host with a scheme and path travels as one path segment', async () => {
  const routes: Record<string, Handler> = { 'PUT /v1/registries/https%3A%2F%2Findex.docker.io%2Fv1%2F': (_req, res) => sendJson(res, 201, { ...login, host: 'docker.io' }) };
  const { code, io } = await berth(['registry', 'login', 'https://index.docker.io/v1/', '-u', 'octo', '--password-stdin', '--json'], routes, PASSWORD);
  assert.equal(code, 0, io.stderr.text);
  assert.deepEqual(JSON.parse(io.stdout.text), { ...login, host: 'docker.io' });
});

test('a password given as an argument is refused before anything is sent, and not repeated', async () => {
  for (const argv of [
    ['registry', 'login', 'ghcr.io', '-u', 'octo', '--password', PASSWORD],
    ['registry', 'login', 'ghcr.io', '-u', 'octo', `--password=${PASSWORD}`],
    ['registry', 'login', 'ghcr.io', '-u', 'octo', '-p', PASSWORD],
    ['registry', 'login', 'ghcr.io', '-u', 'octo', PASSWORD],
    ['registry', 'login', 'ghcr.io', 'octo', PASSWORD, '--password-stdin'],
  ]) {
    const { code, io, api } = await berth(argv, loginRoute, PASSWORD);
    assert.equal(code, 2, argv.join(' '));
    assert.equal(api.requests.length, 0);
    assert.match(io.stderr.text, /a password is never an argument/);
    assert.ok(!printed(io).includes(PASSWORD.split(' ')[0]), printed(io));
  }
});

test('without --password-stdin (stdin not a terminal), or with an empty stdin, nothing is sent', async () => {
  const without = await berth(['registry', 'login', 'ghcr.io', '--username', 'octo'], loginRoute, PASSWORD);
  assert.equal(without.code, 2);
  assert.match(without.io.stderr.text, /no password given/);
  assert.match(without.io.stderr.text, /--password-stdin/);
  const empty = await berth(['registry', 'login', 'ghcr.io', '--username', 'octo', '--password-stdin'], loginRoute, '');
  assert.equal(empty.code, 2);
  assert.match(empty.io.stderr.text, /stdin was empty/);
  const noUser = await berth(['registry', 'login', 'ghcr.io', '--password-stdin'], loginRoute, PASSWORD);
  assert.equal(noUser.code, 2);
  assert.match(noUser.io.stderr.text, /--username/);
  for (const run of [without, empty, noUser]) assert.equal(run.api.requests.length, 0);
});

test('a refused login prints the server\'s error and hint, exit 1', async () => {
  const routes: Record<string, Handler> = {
    'PUT /v1/registries/ghcr.io': (_req, res) =>
      sendJson(res, 422, { error: { code: 'REGISTRY_AUTH_FAILED', message: 'registry ghcr.io refused the login: the credentials were refused', hint: 'log in with a user that may pull it' } }),
  };
  const { code, io } = await berth(['registry', 'login', 'ghcr.io', '-u', 'octo', '--password-stdin'], routes, PASSWORD);
  assert.equal(code, 1);
  assert.match(io.stderr.text, /registry ghcr\.io refused the login/);
  assert.ok(!printed(io).includes(PASSWORD));
});

test('list: a table of hosts and users, a hint when there are none; --json the API\'s shape', async () => {
  const routes = (registries: RegistryLogin[]): Record<string, Handler> => ({ 'GET /v1/registries': (_req, res) => sendJson(res, 200, { registries }) });
  const some = await berth(['registry', 'list'], routes([login, { ...login, host: '127.0.0.1:5000', username: 'ci' }]));
  assert.equal(some.code, 0);
  assert.match(some.io.stdout.text, /^REGISTRY +USER +UPDATED\n/);
  assert.match(some.io.stdout.text, /\nghcr\.io +octo +/);
  assert.match(some.io.stdout.text, /\n127\.0\.0\.1:5000 +ci +/);
  const none = await berth(['registry', 'list'], routes([]));
  assert.equal(none.io.stdout.text, 'no registry logins: `berth registry login HOST --username USER --password-stdin`\n');
  const json = await berth(['registry', 'list', '--json'], routes([login]));
  assert.deepEqual(JSON.parse(json.io.stdout.text), { registries: [login] });
});

test('logout: DELETE, then what the server removed', async () => {
  const { code, io, api } = await berth(['registry', 'logout', 'GHCR.io'], { 'DELETE /v1/registries/GHCR.io': (_req, res) => sendJson(res, 200, { removed: 'ghcr.io' }) });
  assert.equal(code, 0, io.stderr.text);
  assert.equal(api.requests[0].method, 'DELETE');
  assert.equal(io.stdout.text, 'logged out of ghcr.io: the server no longer has its credentials\n');
});

test('help says the password comes from stdin only; a mistyped subcommand gets a suggestion', async () => {
  const help = await berth(['registry', 'login', '--help'], {});
  assert.equal(help.code, 0);
  assert.match(help.io.stdout.text, /usage: berth registry login <host> --username USER --password-stdin/);
  assert.match(help.io.stdout.text, /never an argument/);
  const typo = await berth(['registry', 'lgoin'], {});
  assert.equal(typo.code, 2);
  assert.match(typo.io.stderr.text, /did you mean `berth registry login`\?/);
});
