/**
 * `berth health <app>` through main() against a real HTTP server playing the API: the table per instance,
 * `--limit` sent (and refused outside 1..100 before any request), `--json` as the API answered, errors.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AppHealth, HealthCheck } from '../../model/wire.ts';
import { runCli, sendJson, type Handler } from '../cli.test-support.ts';

const berth = (argv: string[], routes: Record<string, Handler>) => runCli(argv, routes, { env: { NO_COLOR: '1', TZ: 'UTC' } });

const at = (s: number) => new Date(Date.now() - s * 1000).toISOString();
const check = (s: number, over: Partial<HealthCheck> = {}): HealthCheck => ({ at: at(s), ok: true, status: 200, latencyMs: 3, detail: null, ...over });
const answer: AppHealth = {
  app: 'shop',
  state: 'degraded',
  instances: [
    {
      instance: 'ins_0000a1b2',
      process: 'web',
      ordinal: 0,
      release: 'v3',
      state: 'degraded',
      consecutiveFailures: 3,
      checks: [
        check(1, { ok: false, status: 500, latencyMs: 12, detail: 'answered 500' }),
        check(6, { ok: false, status: null, latencyMs: 2000, detail: 'no answer within 2000 ms' }),
        check(11, { ok: false, status: null, latencyMs: 0, detail: 'connection refused' }),
        check(16),
      ],
    },
    { instance: 'ins_0000c3d4', process: 'worker', ordinal: 0, release: 'v3', state: 'unknown', consecutiveFailures: 0, checks: [] },
  ],
};
const routes: Record<string, Handler> = { 'GET /v1/apps/shop/health': (_req, res) => sendJson(res, 200, answer) };

test('a table per serving instance: time, result, status, latency, detail; its state and failures in a row above it', async () => {
  const { code, io, api } = await berth(['health', 'shop'], routes);
  assert.equal(code, 0, io.stderr.text);
  assert.equal(api.requests[0].query.get('limit'), '10', 'the last 10 by default');
  const lines = io.stdout.text.split('\n');
  assert.equal(lines[0], 'shop: degraded');
  assert.equal(lines[2], 'web.0 a1b2 v3: degraded, 3 failed in a row');
  assert.match(lines[3], /^TIME +RESULT +STATUS +LATENCY +DETAIL$/);
  assert.match(lines[4], /^\d\d:\d\d:\d\d\.\d{3} +fail +500 +12 ms +answered 500$/);
  assert.match(lines[5], /^\d\d:\d\d:\d\d\.\d{3} +fail +- +2000 ms +no answer within 2000 ms$/);
  assert.match(lines[6], /^\d\d:\d\d:\d\d\.\d{3} +fail +- +0 ms +connection refused$/);
  assert.match(lines[7], /^\d\d:\d\d:\d\d\.\d{3} +ok +200 +3 ms +-$/);
  assert.equal(lines[9], 'worker.0 c3d4 v3: unknown');
  assert.equal(lines[10], '  no checks yet');
});

test('--limit N is sent; --json prints the answer as it came', async () => {
  const { code, io, api } = await berth(['health', 'shop', '--limit', '100', '--json'], routes);
  assert.equal(code, 0, io.stderr.text);
  assert.equal(api.requests[0].query.get('limit'), '100');
  assert.deepEqual(JSON.parse(io.stdout.text), answer);
});

test('--limit outside 1..100 is refused before asking the daemon; an unknown app shows the API\'s error', async () => {
  for (const limit of ['0', '101', 'ten']) {
    const { code, io, api } = await berth(['health', 'shop', '--limit', limit], routes);
    assert.equal(code, 2, `${limit}: ${io.stderr.text}`);
    assert.match(io.stderr.text, /--limit must be/);
    assert.equal(api.requests.length, 0);
  }
  const missing = await berth(['health', 'nope'], {
    'GET /v1/apps/nope/health': (_req, res) => sendJson(res, 404, { error: { code: 'APP_NOT_FOUND', message: 'no app "nope"', hint: 'see `berth apps`' } }),
  });
  assert.notEqual(missing.code, 0);
  assert.match(missing.io.stderr.text, /no app "nope"/);
});

test('an app with nothing serving says so', async () => {
  const { io } = await berth(['health', 'new'], { 'GET /v1/apps/new/health': (_req, res) => sendJson(res, 200, { app: 'new', state: 'unknown', instances: [] }) });
  assert.equal(io.stdout.text, 'new: unknown\nno serving instance: nothing is checked until a release serves\n');
});
