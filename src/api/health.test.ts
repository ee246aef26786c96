import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { waitFor } from '../../test/support/http.ts';
import { reportTo } from '../deploy/emit.ts';
import { HealthMonitor } from '../health/monitor.ts';
import { App, AppHealth } from '../model/wire.ts';
import { wireIssues } from '../model/wire-check.ts';
import { startApi, type TestApi } from './inject.test-support.ts';

/** `GET /v1/apps/:app/health` through the real API listener, over a real store and the fake driver. */
let api: TestApi;
before(async () => {
  api = await startApi();
});
after(() => api.close());

const web = 'name: shop\nprocesses:\n  web:\n    replicas: 2\nhealth:\n  path: /health\n  interval: 100ms\n  deadline: 2s\n';
const worker = (app: string) => `name: ${app}\nprocesses:\n  worker:\n    command: node worker.js\n    health:\n      heartbeat: /tmp/beat\n      interval: 100ms\n`;

const health = async (app: string, query = '') => {
  const reply = await api.call('GET', `/v1/apps/${app}/health${query}`);
  if (reply.status === 200) assert.deepEqual(wireIssues(AppHealth, reply.body), [], reply.text);
  return reply;
};

test('an unknown app is 404 APP_NOT_FOUND; a limit outside 1..100 is refused naming the field', async () => {
  const missing = await health('nope');
  assert.equal(missing.status, 404);
  assert.equal(missing.body.error.code, 'APP_NOT_FOUND');
  for (const limit of ['0', '101', 'ten', '-1']) {
    await api.call('POST', '/v1/apps', { body: { name: 'empty' } });
    const bad = await health('empty', `?limit=${limit}`);
    assert.equal(bad.status, 400, limit);
    assert.match(bad.text, /limit/, limit);
  }
});

test('an app without a release: unknown, no instances', async () => {
  const reply = await health('empty');
  assert.equal(reply.status, 200);
  assert.deepEqual(reply.body, { app: 'empty', state: 'unknown', instances: [] });
});

test('each serving instance: state, failures in a row, the latest checks newest first (10 by default, `limit` up to 100)', async () => {
  await api.deploy('shop', web);
  const { store } = api.kit.ctx;
  const [first, second] = store.instances.live('shop').filter((i) => i.state === 'serving').toSorted((a, b) => a.ordinal - b.ordinal);
  const t0 = Date.parse('2026-03-01T10:00:00Z');
  for (let n = 0; n < 30; n++) {
    const ok = n < 27;
    store.health.record({ instanceId: first.id, app: 'shop', at: t0 + n * 1000, ok, status: ok ? 200 : 500, latencyMs: n, detail: ok ? null : `answered 500 from ${join(api.deps.config.dataDir, 'run', 'x')}` });
  }
  store.health.setState({ instanceId: first.id, app: 'shop', state: 'degraded', failures: 3, updatedAt: t0 });

  const reply = await health('shop');
  assert.equal(reply.status, 200);
  assert.equal(reply.body.state, 'degraded');
  const [a, b] = reply.body.instances;
  assert.deepEqual({ ...a, checks: a.checks.length }, { instance: first.id, process: 'web', ordinal: 0, release: 'v1', state: 'degraded', consecutiveFailures: 3, checks: 10 });
  assert.deepEqual(a.checks[0], { at: new Date(t0 + 29_000).toISOString(), ok: false, status: 500, latencyMs: 29, detail: 'answered 500 from DATA/run/x' });
  assert.deepEqual(a.checks.map((c: { latencyMs: number }) => c.latencyMs), [29, 28, 27, 26, 25, 24, 23, 22, 21, 20]);
  assert.deepEqual(b, { instance: second.id, process: 'web', ordinal: 1, release: 'v1', state: 'unknown', consecutiveFailures: 0, checks: [] });
  assert.equal((await health('shop', '?limit=3')).body.instances[0].checks.length, 3);
  assert.equal((await health('shop', '?limit=100')).body.instances[0].checks.length, 30);

  // The App shape carries the same states, and a degraded app is not `running`.
  const app = await api.call('GET', '/v1/apps/shop');
  assert.deepEqual(wireIssues(App, app.body), []);
  assert.equal(app.body.health, 'degraded');
  assert.equal(app.body.status, 'degraded');
  assert.deepEqual(Object.fromEntries(app.body.instances.map((i: { id: string; health: string }) => [i.id, i.health])), { [first.id]: 'degraded', [second.id]: 'unknown' });
  store.health.setState({ instanceId: first.id, app: 'shop', state: 'healthy', failures: 0, updatedAt: t0 });
  const healed = await api.call('GET', '/v1/apps/shop');
  assert.equal(healed.body.health, 'healthy');
  assert.equal(healed.body.status, 'running');
});

test('what the monitor records reads back through the API: a worker whose heartbeat goes stale turns degraded', { timeout: 30_000 }, async () => {
  await api.deploy('jobs', worker('jobs'), { heartbeatFile: '/tmp/beat', hangAfterMs: 800 });
  // No restart here (as for an update on trial): the instance stays degraded while the test looks.
  const monitor = new HealthMonitor({ ...api.kit.ctx, report: reportTo(api.kit.ctx), revertInstead: () => true });
  monitor.start(20);
  try {
    await waitFor('the app to be degraded', () => api.kit.ctx.store.events.forApp('jobs').some((e) => e.type === 'app.degraded'), 10_000);
    const reply = await health('jobs', '?limit=5');
    assert.equal(reply.body.state, 'degraded');
    const [instance] = reply.body.instances;
    assert.equal(instance.state, 'degraded');
    assert.ok(instance.consecutiveFailures >= 3, JSON.stringify(instance));
    assert.ok(instance.checks.length >= 3 && instance.checks.length <= 5);
    assert.deepEqual(instance.checks.slice(0, 3).map((c: { ok: boolean; status: null; detail: string }) => [c.ok, c.status, c.detail]), Array(3).fill([false, null, 'heartbeat /tmp/beat is stale']));
    const events = (await api.call('GET', '/v1/apps/jobs/events')).body.events.map((e: { type: string }) => e.type);
    assert.ok(events.includes('app.degraded'), events.join(' '));
  } finally {
    await monitor.stop();
  }
});
