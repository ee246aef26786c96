import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from '../../test/support/http.ts';
import { ChaosExpiry } from '../deploy/chaos-expiry.ts';
import { wireIssues } from '../model/wire-check.ts';
import { App, ChaosAnswer } from '../model/wire.ts';
import { startApi, type TestApi } from './inject.test-support.ts';

/** /v1/apps/:app/chaos over the kit's real in-process proxy and store: set, show, off, expiry, refusals. */
let api: TestApi;
before(async () => {
  api = await startApi();
});
after(() => api.close());

const manifest = 'name: app\nhealth:\n  path: /health\n  interval: 100ms\n  healthy_after: 1\ndeploy:\n  drain_timeout: 100ms\nprocesses:\n  web: {}\n';
const chaos = (app: string, body: unknown) => api.call('PUT', `/v1/apps/${app}/chaos`, { body });
const hit = (app: string) => request({ port: api.kit.port, host: `${app}.localhost`, path: '/x' });
const events = (app: string, type: string) => api.kit.ctx.store.events.forApp(app, 1000).filter((e) => e.type === type);

test('error chaos goes into the proxy, shows on the app, and ends when asked, with events', async () => {
  await api.deploy('shop', manifest, { version: 'one' });
  assert.equal((await hit('shop')).status, 200);
  const set = await chaos('shop', { mode: 'error', status: 503, ratio: 1, forMs: 60_000 });
  assert.equal(set.status, 200, set.text);
  assert.deepEqual(wireIssues(ChaosAnswer, set.body), []);
  assert.equal(set.body.chaos.mode, 'error');
  assert.equal(set.body.chaos.release, null);
  assert.ok(Math.abs(Date.parse(set.body.chaos.until) - Date.now() - 60_000) < 5000);
  const failed = await hit('shop');
  assert.equal(failed.status, 503);
  assert.equal(failed.headers['x-berth-error'], 'chaos');
  assert.equal(api.kit.routing.last()!.apps.shop.chaos?.mode, 'error', 'in the table the proxy saves');

  const shown = await api.call('GET', '/v1/apps/shop/chaos');
  assert.deepEqual(shown.body, set.body);
  const app = await api.call('GET', '/v1/apps/shop');
  assert.deepEqual(wireIssues(App, app.body), []);
  assert.deepEqual(app.body.chaos, set.body.chaos);
  const on = events('shop', 'chaos.on');
  assert.equal(on.length, 1);
  assert.deepEqual({ ...on[0].data, until: 0 }, { mode: 'error', latencyMs: null, status: 503, ratio: 1, release: null, until: 0 });

  const off = await api.call('DELETE', '/v1/apps/shop/chaos');
  assert.deepEqual(off.body, { app: 'shop', chaos: null });
  assert.equal((await hit('shop')).status, 200);
  assert.equal(api.kit.routing.last()!.apps.shop.chaos, undefined);
  assert.deepEqual(events('shop', 'chaos.off').map((e) => e.data), [{ reason: 'asked' }]);
  assert.equal((await api.call('GET', '/v1/apps/shop')).body.chaos, null);
  const again = await api.call('DELETE', '/v1/apps/shop/chaos');
  assert.equal(again.status, 200);
  assert.equal(events('shop', 'chaos.off').length, 1, 'nothing to turn off: no event');
});

test('slow chaos scoped to a release: that release slowed, as its table says', async () => {
  const set = await chaos('shop', { mode: 'slow', latencyMs: 300, release: 'v1' });
  assert.equal(set.status, 200, set.text);
  assert.equal(set.body.chaos.release, 'v1');
  assert.ok(Math.abs(Date.parse(set.body.chaos.until) - Date.now() - 600_000) < 5000, 'default 10 minutes');
  assert.deepEqual(api.kit.routing.last()!.apps.shop.chaos, { mode: 'slow', latencyMs: 300, release: 'v1', until: Date.parse(set.body.chaos.until) });
  const started = performance.now();
  assert.equal((await hit('shop')).status, 200);
  assert.ok(performance.now() - started >= 290);
  await api.call('DELETE', '/v1/apps/shop/chaos');
});

test('an expired rule is removed by the daemon with a chaos.off event, and leaves the table', async () => {
  await chaos('shop', { mode: 'error', status: 500, ratio: 0.5, forMs: 1000 });
  assert.ok(api.kit.routing.last()!.apps.shop.chaos);
  // The daemon's clock two seconds on: the sweep finds it expired.
  const later = { ...api.kit.ctx, clock: { ...api.kit.ctx.clock, now: () => Date.now() + 2000 } };
  const expiry = new ChaosExpiry(later, api.kit.routing, 20);
  expiry.start();
  try {
    await expiry.sweep();
    assert.equal(api.kit.ctx.store.chaos.get('shop'), undefined);
    assert.deepEqual(events('shop', 'chaos.off').at(-1)!.data, { reason: 'expired' });
    assert.equal(api.kit.routing.last()!.apps.shop.chaos, undefined);
    await expiry.sweep();
    assert.equal(events('shop', 'chaos.off').filter((e) => (e.data as { reason: string }).reason === 'expired').length, 1, 'removed once');
  } finally {
    await expiry.stop();
  }
});

test('refusals name the field with a stable code', async () => {
  const cases: [body: unknown, status: number, code: string, message: RegExp][] = [
    [{ mode: 'flaky' }, 400, 'CHAOS_MODE_INVALID', /^mode:/],
    [{ mode: 'slow' }, 400, 'CHAOS_LATENCY_INVALID', /^latencyMs:/],
    [{ mode: 'slow', latencyMs: 0 }, 400, 'CHAOS_LATENCY_INVALID', /^latencyMs:/],
    [{ mode: 'slow', latencyMs: 60_001 }, 400, 'CHAOS_LATENCY_INVALID', /^latencyMs:/],
    [{ mode: 'error', status: 404, ratio: 0.5 }, 400, 'CHAOS_STATUS_INVALID', /^status:/],
    [{ mode: 'error', status: 600, ratio: 0.5 }, 400, 'CHAOS_STATUS_INVALID', /^status:/],
    [{ mode: 'error', status: 503, ratio: 0 }, 400, 'CHAOS_RATIO_INVALID', /^ratio:/],
    [{ mode: 'error', status: 503, ratio: 1.01 }, 400, 'CHAOS_RATIO_INVALID', /^ratio:/],
    [{ mode: 'error', status: 503 }, 400, 'CHAOS_RATIO_INVALID', /^ratio:/],
    [{ mode: 'slow', latencyMs: 10, forMs: 999 }, 400, 'CHAOS_DURATION_INVALID', /^forMs:/],
    [{ mode: 'slow', latencyMs: 10, forMs: 24 * 3600_000 + 1 }, 400, 'CHAOS_DURATION_INVALID', /^forMs:/],
    [{ mode: 'slow', latencyMs: 10, release: 'v9' }, 400, 'CHAOS_RELEASE_UNKNOWN', /^release:/],
    [{ mode: 'slow', latencyMs: 10, release: 'latest' }, 400, 'CHAOS_RELEASE_UNKNOWN', /^release:/],
    [{ mode: 'slow', latencyMs: 10, extra: 1 }, 400, 'REQUEST_INVALID', /extra/],
    [{ mode: 'slow', latencyMs: '10' }, 400, 'REQUEST_INVALID', /latencyMs/],
  ];
  for (const [body, status, code, message] of cases) {
    const reply = await chaos('shop', body);
    assert.equal(reply.status, status, JSON.stringify(body));
    assert.equal(reply.body.error.code, code, JSON.stringify(body));
    assert.match(reply.body.error.message, message);
  }
  assert.equal(api.kit.ctx.store.chaos.get('shop'), undefined, 'nothing half-written');
  assert.equal((await chaos('nope', { mode: 'slow', latencyMs: 10 })).body.error.code, 'APP_NOT_FOUND');
  assert.equal((await api.call('GET', '/v1/apps/nope/chaos')).status, 404);
});

test('destroying the app ends its chaos with an event', async () => {
  await api.deploy('gone', manifest, { version: 'one' });
  await chaos('gone', { mode: 'slow', latencyMs: 5 });
  assert.equal((await api.call('DELETE', '/v1/apps/gone')).status, 200);
  assert.equal(api.kit.ctx.store.chaos.get('gone'), undefined);
  assert.deepEqual(events('gone', 'chaos.off').map((e) => e.data), [{ reason: 'app destroyed' }]);
});
