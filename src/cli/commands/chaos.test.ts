/** `berth chaos` through main() against a real HTTP server playing the API; `berth status` showing it. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { App, ChaosState } from '../../model/wire.ts';
import { runCli, sendJson, type Handler } from '../cli.test-support.ts';
import { style } from '../io.ts';
import { describeChaos } from './chaos.ts';
import { formatStatus } from './status.ts';

const berth = (argv: string[], routes: Record<string, Handler>) => runCli(argv, routes);

const state = (over: Partial<ChaosState> = {}): ChaosState => ({
  mode: 'error',
  latencyMs: null,
  status: 503,
  ratio: 0.3,
  release: 'v3',
  since: new Date().toISOString(),
  until: new Date(Date.now() + 10 * 60_000).toISOString(),
  ...over,
});

test('set sends the checked body with PUT, off sends DELETE, show GETs; each prints one line', async () => {
  const routes: Record<string, Handler> = {
    'PUT /v1/apps/shop/chaos': (req, res) => sendJson(res, 200, { app: 'shop', chaos: state({ ...JSON.parse(req.body.toString()), since: new Date().toISOString(), until: new Date(Date.now() + 3_600_000).toISOString() }) }),
    'DELETE /v1/apps/shop/chaos': (_req, res) => sendJson(res, 200, { app: 'shop', chaos: null }),
    'GET /v1/apps/shop/chaos': (_req, res) => sendJson(res, 200, { app: 'shop', chaos: null }),
  };
  const set = await berth(['chaos', 'shop', 'error', '--status', '503', '--ratio', '0.3', '--release', 'v3', '--for', '1h'], routes);
  assert.equal(set.code, 0, set.io.stderr.text);
  assert.deepEqual(JSON.parse(set.api.requests[0].body.toString()), { mode: 'error', status: 503, ratio: 0.3, forMs: 3_600_000, release: 'v3' });
  assert.match(set.io.stdout.text, /^chaos on shop: error: 503 for 30 % of requests, release v3 only, off in (59m\d\ds|60m00s)/);
  const off = await berth(['chaos', 'shop', 'off'], routes);
  assert.equal(off.api.requests[0].method, 'DELETE');
  assert.equal(off.io.stdout.text, 'chaos off for shop\n');
  const shown = await berth(['chaos', 'shop'], routes);
  assert.equal(shown.io.stdout.text, 'no chaos on shop\n');
});

test('a refusal of the server is printed with its hint and exit 1; the CLI refuses out-of-range values before asking', async () => {
  const routes: Record<string, Handler> = {
    'PUT /v1/apps/shop/chaos': (_req, res) =>
      sendJson(res, 400, { error: { code: 'CHAOS_RELEASE_UNKNOWN', message: 'release: app "shop" has no release "v9"', hint: 'name one of its releases as v3' } }),
  };
  const refused = await berth(['chaos', 'shop', 'slow', '--latency', '2s', '--release', 'v9'], routes);
  assert.equal(refused.code, 1);
  assert.match(refused.io.stderr.text, /has no release "v9"/);
  const early = await berth(['chaos', 'shop', 'slow', '--latency', '2m'], routes);
  assert.equal(early.code, 2);
  assert.equal(early.api.requests.length, 0, 'never asked the server');
});

test('status shows the chaos with how to end it; describeChaos says mode, scope and time left', () => {
  const now = Date.parse('2026-01-01T12:00:00Z');
  const slow = state({ mode: 'slow', latencyMs: 2000, status: null, ratio: null, release: null, until: '2026-01-01T12:05:00Z' });
  assert.equal(describeChaos(slow, now), 'slow: +2s per request, all releases, off in 5m00s');
  const app: App = { name: 'shop', createdAt: '2025-12-01T00:00:00Z', urls: [], status: 'running', health: 'healthy', release: null, deploying: null, instances: [], updates: [], chaos: slow };
  assert.match(formatStatus(app, null, now, style(false)), /^  chaos +slow: \+2s per request, all releases, off in 5m00s \(`berth chaos shop off`\)$/m);
  assert.doesNotMatch(formatStatus({ ...app, chaos: null }, null, now, style(false)), /chaos/);
});
