import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { toolSuite } from '../../test/support/tools.ts';
import { request } from '../../test/support/http.ts';
import { wireIssues } from '../model/wire-check.ts';
import { AppMetrics } from '../model/wire.ts';
import { startApi, type TestApi } from './inject.test-support.ts';

/** GET /v1/metrics (Prometheus, bearer token) and GET /v1/apps/:app/metrics over the kit's real in-process proxy. */
let api: TestApi;
before(async () => {
  api = await startApi();
});
after(() => api.close());

const manifest = 'name: app\nhealth:\n  path: /health\n  interval: 100ms\n  healthy_after: 1\nprocesses:\n  web: {}\n';

test('the scrape needs the token and answers Prometheus text', async () => {
  const anonymous = await api.call('GET', '/v1/metrics', { headers: { authorization: '' } });
  assert.equal(anonymous.status, 401);
  const reply = await api.call('GET', '/v1/metrics');
  assert.equal(reply.status, 200);
  assert.equal(reply.headers['content-type'], 'text/plain; version=0.0.4; charset=utf-8');
  assert.match(reply.text, /^# TYPE berth_http_requests_total counter$/m);
  assert.match(reply.text, /^berth_build_info\{version="[^"]+",driver="fake"\} 1$/m);
});

test('requests through the proxy show up per release, in the app window and in the scrape', async () => {
  await api.deploy('shop', manifest, { version: 'one' });
  await api.call('GET', '/v1/apps/shop/metrics'); // the collector's first reading is its baseline
  for (let i = 0; i < 30; i++) assert.equal((await request({ port: api.kit.port, host: 'shop.localhost', path: `/item/${i}` })).status, 200);
  const reply = await api.call('GET', '/v1/apps/shop/metrics?window=5m');
  assert.equal(reply.status, 200);
  assert.deepEqual(wireIssues(AppMetrics, reply.body), []);
  assert.equal(reply.body.window, '5m');
  assert.equal(reply.body.total.requests, 30);
  assert.equal(reply.body.total.errorRate, 0);
  assert.equal(reply.body.releases[0].name, 'v1');
  assert.equal(reply.body.releases[0].current, true);
  assert.equal(reply.body.releases[0].requests, 30);
  assert.equal(reply.body.instances.length, 1);
  const scrape = (await api.call('GET', '/v1/metrics')).text;
  assert.match(scrape, /^berth_http_requests_total\{app="shop",environment="production",release="v1",code_class="2xx"\} 30$/m);
  assert.match(scrape, /^berth_deployments_total\{app="shop",kind="deploy",outcome="succeeded"\} 1$/m);
  const promtool = toolSuite('promtool', 'prometheus');
  if (promtool.path) assert.equal(execFileSync(promtool.path, ['check', 'metrics'], { input: scrape, encoding: 'utf8', timeout: 30_000 }).trim(), '');
});

test('bad input: unknown app 404, a window other than 1m, 5m, 1h 400 naming window and the allowed values', async () => {
  const unknown = await api.call('GET', '/v1/apps/nope/metrics');
  assert.equal(unknown.status, 404);
  assert.equal(unknown.body.error.code, 'APP_NOT_FOUND');
  for (const window of ['10m', '', '1h%00', 'x'.repeat(17)]) {
    const bad = await api.call('GET', `/v1/apps/shop/metrics?window=${window}`);
    assert.equal(bad.status, 400, window);
    assert.match(bad.body.error.code, /^(METRICS_WINDOW_INVALID|REQUEST_INVALID)$/);
    assert.match(bad.body.error.message, /window/);
  }
  const bad = await api.call('GET', '/v1/apps/shop/metrics?window=2h');
  assert.equal(bad.body.error.code, 'METRICS_WINDOW_INVALID');
  assert.match(bad.body.error.hint, /1m, 5m, 1h/);
  const extra = await api.call('GET', '/v1/apps/shop/metrics?windows=1m');
  assert.equal(extra.status, 400);
});
