import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AppMetrics } from '../../model/wire.ts';
import { main } from '../main.ts';
import { sendJson, startFakeApi, testIo } from '../cli.test-support.ts';
import { style } from '../io.ts';
import { formatLatency, formatPercent, formatRate, formatTop, parse } from './top.ts';

const shop: AppMetrics = {
  app: 'shop',
  window: '1m',
  windowSeconds: 60,
  at: '2026-01-01T12:00:00.000Z',
  total: { requests: 720, requestsPerSecond: 12, errorRate: 0.1, latencyMs: { p50: 4.2, p95: 230, p99: 1800, mean: 20 } },
  releases: [{ id: 'rel_2', name: 'v2', current: true, requests: 720, requestsPerSecond: 12, errorRate: 0.1, latencyMs: { p50: 4.2, p95: 230, p99: 1800, mean: 20 } }],
  instances: [
    { id: 'ins_1', process: 'web', release: 'v2', state: 'serving', run: 'running', restarts: 2, cpuSeconds: 3, cpuPercent: 12.5, memoryBytes: 50 * 1024 * 1024, memoryLimitBytes: null },
    { id: 'ins_2', process: 'web', release: 'v2', state: 'starting', run: 'running', restarts: 0, cpuSeconds: 1, cpuPercent: 2.5, memoryBytes: 30 * 1024 * 1024, memoryLimitBytes: null },
  ],
};

test('numbers in a few characters: rates, percentages, latencies; dashes without requests', () => {
  assert.deepEqual([0, 0.05, 0.5, 12.4, 1234].map(formatRate), ['0', '0.05', '0.5', '12', '1.2k']);
  assert.deepEqual([null, 0, 0.0004, 0.0625].map(formatPercent), ['-', '0.0%', '0.04%', '6.3%']);
  assert.deepEqual([null, 4.25, 230, 1800].map(formatLatency), ['-', '4.3ms', '230ms', '1.8s']);
});

test('one row per app: release, traffic, serving/all instances, restarts, CPU and memory summed', () => {
  const text = formatTop([shop], Date.parse('2026-01-01T12:00:05Z'), style(false));
  assert.match(text, /^berth top: every app over the last 1m, 12:00:05 UTC\n/);
  assert.match(text, /\nAPP +RELEASE +REQ\/S +ERRORS +P50 +P95 +P99 +INSTANCES +RESTARTS +CPU +MEMORY\n/);
  assert.match(text, /\nshop +v2 +12 +10\.0% +4\.2ms +230ms +1\.8s +1\/2 +2 +15\.0% +80 MB\n$/);
  assert.equal(formatTop([], 0, style(false)), 'no apps yet: `berth deploy` creates one\n');
});

test('--window takes 1m, 5m or 1h only', () => {
  assert.equal(parse(['--window', '5m']).window, '5m');
  assert.throws(() => parse(['--window', '2m']), /--window must be 1m, 5m or 1h, not "2m"/);
});

test('not on a terminal it prints once and exits; --json prints the API shapes', async () => {
  const windows: string[] = [];
  const api = await startFakeApi({
    'GET /v1/apps': (_req, res) => sendJson(res, 200, { apps: [{ name: 'shop' }, { name: 'gone' }] }),
    'GET /v1/apps/shop/metrics': (req, res) => {
      windows.push(req.query.get('window')!);
      sendJson(res, 200, shop);
    },
    'GET /v1/apps/gone/metrics': (_req, res) => sendJson(res, 404, { error: { code: 'APP_NOT_FOUND', message: 'app "gone" does not exist' } }),
  });
  try {
    const io = testIo({ env: { BERTH_URL: api.url, BERTH_TOKEN: 't' } });
    assert.equal(await main(['top', '--window', '5m'], io), 0);
    assert.match(io.stdout.text, /\nshop +v2 +12 /);
    assert.doesNotMatch(io.stdout.text, /gone|\x1b/);
    const json = testIo({ env: { BERTH_URL: api.url, BERTH_TOKEN: 't' } });
    assert.equal(await main(['top', '--json'], json), 0);
    assert.deepEqual(JSON.parse(json.stdout.text), { apps: [shop] });
    assert.deepEqual(windows, ['5m', '1m']);
  } finally {
    await api.close();
  }
});
