import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { inject, startApi, type TestApi } from './inject.test-support.ts';

/** The API's own rules, before and around any endpoint: auth, routing, input checks; and the system endpoints. */
let api: TestApi;
before(async () => {
  api = await startApi();
});
after(() => api.close());

describe('auth', () => {
  test('a request without a token is 401 AUTH_REQUIRED, with the Bearer challenge', async () => {
    const reply = await inject(api.server, { method: 'GET', url: '/v1/apps' });
    assert.equal(reply.status, 401);
    assert.equal(reply.body.error.code, 'AUTH_REQUIRED');
    assert.equal(reply.headers['www-authenticate'], 'Bearer realm="berth"');
  });

  test('a token the store does not know, or another scheme, is 401 AUTH_INVALID', async () => {
    for (const authorization of ['Bearer berth_not-a-token', `Basic ${api.token}`, `Bearer ${api.token} extra`]) {
      const reply = await inject(api.server, { method: 'GET', url: '/v1/apps', headers: { authorization } });
      assert.equal(reply.status, 401, authorization);
      assert.equal(reply.body.error.code, 'AUTH_INVALID', authorization);
    }
  });

  test('auth comes before routing: an unknown path tells a stranger nothing', async () => {
    const reply = await inject(api.server, { method: 'GET', url: '/v1/nothing-here' });
    assert.equal(reply.status, 401);
  });

  test('the scheme is case-insensitive', async () => {
    const reply = await inject(api.server, { method: 'GET', url: '/v1/info', headers: { authorization: `bearer ${api.token}` } });
    assert.equal(reply.status, 200);
  });
});

describe('routing and input', () => {
  test('an unknown path is 404 ROUTE_NOT_FOUND; a known one with another method is 405 with Allow', async () => {
    const missing = await api.call('GET', '/v1/nothing-here');
    assert.equal(missing.status, 404);
    assert.equal(missing.body.error.code, 'ROUTE_NOT_FOUND');
    const wrong = await api.call('PUT', '/v1/apps');
    assert.equal(wrong.status, 405);
    assert.equal(wrong.body.error.code, 'METHOD_NOT_ALLOWED');
    assert.equal(wrong.headers.allow, 'GET, POST');
  });

  test('an empty path segment matches no route', async () => {
    assert.equal((await api.call('GET', '/v1/apps//env')).status, 404);
  });

  test('unknown fields and query parameters are refused before the handler runs', async () => {
    const field = await api.call('POST', '/v1/apps', { body: { name: 'fine', nmae: 'typo' } });
    assert.equal(field.status, 400);
    assert.equal(field.body.error.code, 'REQUEST_INVALID');
    assert.equal(field.body.error.details.issues[0].path, 'nmae');
    assert.equal(api.kit.ctx.store.apps.get('fine'), undefined, 'nothing was created');
    const param = await api.call('GET', '/v1/info?verbose=1');
    assert.equal(param.status, 400);
    assert.equal(param.body.error.details.issues[0].path, 'verbose');
  });

  test('a body that is not JSON is 400 BODY_INVALID', async () => {
    const reply = await api.call('POST', '/v1/apps', { body: '{"name":', headers: { 'content-type': 'application/json' } });
    assert.equal(reply.status, 400);
    assert.equal(reply.body.error.code, 'BODY_INVALID');
  });
});

describe('system', () => {
  test('info names the server, its driver and addresses', async () => {
    const reply = await api.call('GET', '/v1/info');
    assert.equal(reply.status, 200);
    assert.deepEqual(reply.body, {
      version: '0.0.0-test',
      driver: 'fake',
      baseDomain: 'localhost',
      http: api.kit.ctx.settings.http,
      api: { host: '127.0.0.1', port: 7070 },
      dataDir: api.kit.dir,
    });
  });

  test('doctor reports the runtime, the proxy and the disk', async () => {
    const reply = await api.call('GET', '/v1/doctor');
    assert.equal(reply.status, 200);
    assert.equal(reply.body.version, '0.0.0-test');
    assert.equal(reply.body.runtime.driver, 'fake');
    assert.equal(typeof reply.body.proxy.generation, 'number', JSON.stringify(reply.body.proxy));
    assert.ok(reply.body.disk.totalBytes > 0);
    assert.deepEqual(reply.body.warnings, []);
  });

  test('shutdown answers 202 first, then asks the daemon to stop (apps too only when told)', async () => {
    const plain = await api.call('POST', '/v1/system/shutdown');
    assert.equal(plain.status, 202);
    assert.deepEqual(plain.body, { stopping: true, stopApps: false });
    const all = await api.call('POST', '/v1/system/shutdown', { body: { stopApps: true } });
    assert.deepEqual(all.body, { stopping: true, stopApps: true });
    assert.deepEqual(api.shutdowns, [{ stopApps: false }, { stopApps: true }]);
  });
});
