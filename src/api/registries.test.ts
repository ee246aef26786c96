/**
 * /v1/registries against a real registry that wants a login (Debian's docker-registry with htpasswd, one
 * for this file): a login is tried on the registry before anything is saved; a refused or unreachable one
 * saves nothing; the list shows hosts and users only; logout forgets. No answer, log line or stored byte
 * carries the password in the clear. Skips visibly without the registry package, htpasswd or an engine;
 * fails in CI.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { REGISTRY_USER, registrySuite, startRegistry, type TestRegistry } from '../../test/support/registry.ts';
import { createLogger } from '../lib/log.ts';
import { RegistryClient } from '../registry/client.ts';
import { wireIssues } from '../model/wire-check.ts';
import { inject, startApi, type InjectReply, type TestApi } from './inject.test-support.ts';
import type { OperationName } from './operations.ts';
import { responses, type Responses } from './responses.ts';
import { createApiServer } from './server.ts';

const suite = await registrySuite('htpasswd');

describe('registry logins through the API', { skip: suite.skip, timeout: 120_000 }, () => {
  let registry: TestRegistry;
  let api: TestApi;
  let server: Server;
  const logged: string[] = [];
  const answers: InjectReply[] = [];
  const wrongPassword = 'not-the-pa55word-7d1f';

  before(async () => {
    registry = await startRegistry({ auth: 'htpasswd' });
    api = await startApi();
    // The same API with the real registry client (the kit has a fake one) and a logger that keeps every
    // line, to look for the password in it.
    const log = createLogger({ sink: { write: (line: string) => logged.push(line) }, level: 'debug' });
    server = createApiServer({ ...api.deps, ctx: { ...api.deps.ctx, log, registry: new RegistryClient({ timeoutMs: 5_000 }) } });
  });
  after(async () => {
    await api?.close();
    await registry?.stop();
  });

  const call = async (method: string, url: string, body?: unknown) => {
    const reply = await inject(server, { method, url, headers: { authorization: `Bearer ${api.token}` }, ...(body === undefined ? {} : { body }) });
    answers.push(reply);
    return reply;
  };
  const login = (host: string, body: unknown) => call('PUT', `/v1/registries/${encodeURIComponent(host)}`, body);
  const stored = () => api.kit.ctx.store.registryCredentials.list().map((l) => `${l.host} ${l.username}`);
  /** The answer fits the document's shape for its operation and status. */
  const fits = (name: OperationName, reply: InjectReply) => {
    const spec = (responses[name] as Responses)[reply.status as 200];
    assert.ok(spec?.json, `${name} answered ${reply.status}: ${reply.text}`);
    assert.deepEqual(wireIssues(spec.json, reply.body, name), []);
  };

  test('a wrong password is refused by the registry: REGISTRY_AUTH_FAILED, nothing saved', async () => {
    const reply = await login(registry.host, { username: REGISTRY_USER.username, password: wrongPassword });
    assert.equal(reply.status, 422, reply.text);
    assert.equal(reply.body.error.code, 'REGISTRY_AUTH_FAILED');
    assert.match(reply.body.error.message, new RegExp(`registry ${registry.host.replace(/\./g, '\\.')} refused the login`));
    assert.deepEqual(stored(), []);
    assert.deepEqual((await call('GET', '/v1/registries')).body, { registries: [] });
  });

  test('a registry that does not answer: REGISTRY_UNREACHABLE, nothing saved', async () => {
    const closed = await closedPort();
    const reply = await login(`127.0.0.1:${closed}`, REGISTRY_USER);
    assert.equal(reply.status, 502, reply.text);
    assert.equal(reply.body.error.code, 'REGISTRY_UNREACHABLE');
    assert.deepEqual(stored(), []);
  });

  test('something that is not a registry (no /v2/): REGISTRY_ERROR, nothing saved', async () => {
    const web = createServer((_req, res) => res.writeHead(404).end('not here'));
    await new Promise<void>((resolve) => web.listen(0, '127.0.0.1', resolve));
    try {
      const reply = await login(`127.0.0.1:${(web.address() as AddressInfo).port}`, REGISTRY_USER);
      assert.equal(reply.status, 502, reply.text);
      assert.equal(reply.body.error.code, 'REGISTRY_ERROR');
    } finally {
      web.closeAllConnections();
      await new Promise((resolve) => web.close(resolve));
    }
    assert.deepEqual(stored(), []);
  });

  test('bad input is refused before the registry is asked, without quoting the password', async () => {
    const cases: [string, unknown, number, string][] = [
      ['a b', REGISTRY_USER, 400, 'REGISTRY_HOST_INVALID'],
      ['x'.repeat(300), REGISTRY_USER, 400, 'REGISTRY_HOST_INVALID'],
      [registry.host, { username: 'a:b', password: REGISTRY_USER.password }, 400, 'REGISTRY_CREDENTIALS_INVALID'],
      [registry.host, { username: REGISTRY_USER.username, password: '' }, 400, 'REQUEST_INVALID'],
      [registry.host, { username: REGISTRY_USER.username }, 400, 'REQUEST_INVALID'],
      [registry.host, { username: REGISTRY_USER.username, password: 'x'.repeat(16 * 1024 + 1) }, 400, 'REQUEST_INVALID'],
      [registry.host, { username: REGISTRY_USER.username, password: 42 }, 400, 'REQUEST_INVALID'],
      [registry.host, { ...REGISTRY_USER, email: 'a@b.c' }, 400, 'REQUEST_INVALID'],
      [registry.host, { username: REGISTRY_USER.username, password: `${REGISTRY_USER.password}\0` }, 400, 'REGISTRY_CREDENTIALS_INVALID'],
    ];
    for (const [host, body, status, code] of cases) {
      const reply = await login(host, body);
      assert.equal(reply.status, status, `${host} ${reply.text}`);
      assert.equal(reply.body.error.code, code, reply.text);
    }
    assert.deepEqual(stored(), []);
  });

  test('the right password is saved sealed: 201, then 200 when it replaces the login', async () => {
    const first = await login(registry.host, REGISTRY_USER);
    assert.equal(first.status, 201, first.text);
    fits('loginRegistry', first);
    assert.deepEqual({ host: first.body.host, username: first.body.username }, { host: registry.host, username: REGISTRY_USER.username });
    assert.deepEqual(Object.keys(first.body).sort(), ['createdAt', 'host', 'updatedAt', 'username']);

    const row = api.kit.ctx.store.registryCredentials.get(registry.host)!;
    assert.notEqual(row.passwordSealed, REGISTRY_USER.password);
    assert.ok(!row.passwordSealed.includes(REGISTRY_USER.password));
    assert.equal(api.kit.ctx.sealer.open(row.passwordSealed), REGISTRY_USER.password, 'what pulls will open is the password');

    // Another spelling of the same host (as `docker login` takes it) is the same login.
    const again = await login(`http://${registry.host}/`, REGISTRY_USER);
    assert.equal(again.status, 200, again.text);
    fits('loginRegistry', again);
    assert.equal(again.body.host, registry.host);
    assert.equal(again.body.createdAt, first.body.createdAt);
    assert.deepEqual(stored(), [`${registry.host} ${REGISTRY_USER.username}`]);
  });

  test('a refused login leaves the saved one as it was', async () => {
    const before = api.kit.ctx.store.registryCredentials.get(registry.host)!;
    const reply = await login(registry.host, { username: 'someone-else', password: wrongPassword });
    assert.equal(reply.body.error.code, 'REGISTRY_AUTH_FAILED');
    assert.deepEqual(api.kit.ctx.store.registryCredentials.get(registry.host), before);
  });

  test('list: hosts and users, never a password', async () => {
    const list = await call('GET', '/v1/registries');
    assert.equal(list.status, 200);
    fits('listRegistries', list);
    assert.deepEqual(
      list.body.registries.map((r: { host: string; username: string }) => [r.host, r.username]),
      [[registry.host, REGISTRY_USER.username]],
    );
    assert.ok(!/password|sealed/i.test(list.text), list.text);
  });

  test('logout forgets the login; a second logout says there is none', async () => {
    const out = await call('DELETE', `/v1/registries/${encodeURIComponent(registry.host)}`);
    assert.equal(out.status, 200, out.text);
    fits('logoutRegistry', out);
    assert.deepEqual(out.body, { removed: registry.host });
    assert.deepEqual(stored(), []);
    const twice = await call('DELETE', `/v1/registries/${encodeURIComponent(registry.host)}`);
    assert.equal(twice.status, 404);
    assert.equal(twice.body.error.code, 'REGISTRY_LOGIN_NOT_FOUND');
    assert.match(twice.body.error.hint, /berth registry list/);
    assert.deepEqual((await call('GET', '/v1/registries')).body, { registries: [] });
  });

  test('no answer, log line or file of the data directory carries a password in the clear', () => {
    assert.ok(answers.length > 10);
    assert.ok(logged.some((line) => line.includes('registry login saved')), 'the login is logged (without its password)');
    for (const secret of [REGISTRY_USER.password, wrongPassword]) {
      for (const reply of answers) assert.ok(!reply.text.includes(secret), `no password in: ${reply.text}`);
      for (const line of logged) assert.ok(!line.includes(secret), `no password in the log: ${line}`);
      for (const file of filesUnder(api.kit.dir)) assert.ok(!readFileSync(file).includes(secret), `no password in ${file}`);
    }
  });
});

/** A loopback port nothing listens on (it was free a moment ago). */
async function closedPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name));
}
