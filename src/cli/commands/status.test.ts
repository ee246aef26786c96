import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { App, ImageUpdate } from '../../model/wire.ts';
import { style } from '../io.ts';
import { formatStatus } from './status.ts';

/** `berth status`'s auto-update part: per followed image the last check, the digest serving, a pinned one. */
const now = Date.parse('2026-01-01T12:00:00Z');
const D = (c: string) => `sha256:${c.repeat(64)}`;
const app = (updates: ImageUpdate[]): App => ({
  name: 'shop',
  createdAt: '2025-12-01T00:00:00Z',
  urls: ['http://shop.localhost'],
  status: 'running',
  health: 'healthy',
  release: { id: 'rel_4', version: 4, name: 'v4' },
  deploying: null,
  instances: [],
  updates,
  chaos: null,
});
const update = (fields: Partial<ImageUpdate>): ImageUpdate => ({
  image: 'ghcr.io/acme/web:1.4',
  service: null,
  intervalMs: 300_000,
  lastCheckAt: '2026-01-01T11:59:57Z',
  lastError: null,
  serving: D('a'),
  pinned: null,
  trial: null,
  ...fields,
});

test('an app without `update:` shows no auto-update part', () => {
  assert.doesNotMatch(formatStatus(app([]), null, now, style(false)), /auto-update/);
});

test('each followed image: last check (ago, ok or failed with its message), the digest serving, the pinned bad one', () => {
  const text = formatStatus(
    app([
      update({ pinned: D('b') }),
      update({ image: 'redis:7', service: 'cache', lastCheckAt: '2026-01-01T11:58:00Z', lastError: { code: 'REGISTRY_UNREACHABLE', message: 'cannot reach registry docker.io: timeout' }, serving: null }),
      update({ image: 'ghcr.io/acme/worker:2', lastCheckAt: null, serving: null }),
    ]),
    null,
    now,
    style(false),
  );
  assert.match(text, /\nauto-update:\nIMAGE +FOR +LAST CHECK +SERVING +PINNED\n/);
  assert.match(text, /\nghcr\.io\/acme\/web:1\.4 +app +3s ago, ok +sha256:aaaaaaaaaaaa +sha256:bbbbbbbbbbbb\n/);
  assert.match(text, /\nredis:7 +cache +2m ago, failed +- +-\n/);
  assert.match(text, /\nghcr\.io\/acme\/worker:2 +app +not yet +- +-\n/);
  assert.match(text, /  redis:7: the last check failed: cannot reach registry docker\.io: timeout\n/);
  assert.match(text, /  ghcr\.io\/acme\/web:1\.4: sha256:bbbbbbbbbbbb failed and is skipped until the tag names another image\n/);
});

test('an update under way: deploying, then on trial until its settle window ends', () => {
  const deploying = formatStatus(app([update({ trial: { digest: D('c'), deployment: 'dep_9', settlingUntil: null } })]), null, now, style(false));
  assert.match(deploying, /ghcr\.io\/acme\/web:1\.4: updating to sha256:cccccccccccc \(dep_9\)/);
  const settling = formatStatus(app([update({ trial: { digest: D('c'), deployment: 'dep_9', settlingUntil: '2026-01-01T12:01:30Z' } })]), null, now, style(false));
  assert.match(settling, /sha256:cccccccccccc on trial for 1m30s more: a crash loop or failing health checks revert it/);
});

/** `berth status`'s traffic part: the app over 1m and 5m, then each release with requests. */
const figures = (requests: number, errorRate: number | null, p95: number | null) => ({
  requests,
  requestsPerSecond: requests / 60,
  errorRate,
  latencyMs: { p50: p95 === null ? null : p95 / 4, p95, p99: p95 === null ? null : p95 * 2, mean: null },
});
const metrics = (window: '1m' | '5m', releases: { name: string; current: boolean; requests: number; errorRate: number | null }[]) => ({
  app: 'shop',
  window,
  windowSeconds: window === '1m' ? 60 : 300,
  at: '2026-01-01T12:00:00.000Z',
  total: figures(releases.reduce((s, r) => s + r.requests, 0), 0.0625, 80),
  releases: releases.map((r) => ({ id: `rel_${r.name}`, ...r, ...figures(r.requests, r.errorRate, r.requests ? 80 : null) })),
  instances: [],
});

test('traffic: the app over 1m and 5m, then each release that had requests (a canary beside the current one)', () => {
  const traffic = {
    '1m': metrics('1m', [{ name: 'v4', current: true, requests: 600, errorRate: 0.05 }, { name: 'v5', current: false, requests: 120, errorRate: 0.1 }]),
    '5m': metrics('5m', [{ name: 'v4', current: true, requests: 3000, errorRate: 0.01 }]),
  };
  const text = formatStatus(app([]), null, now, style(false), traffic);
  assert.match(text, /\ntraffic:\nFOR +WINDOW +REQ\/S +ERRORS +P50 +P95 +P99\n/);
  assert.match(text, /\napp +1m +12 +6\.3% +20ms +80ms +160ms\n/);
  assert.match(text, /\napp +5m +50 +6\.3% +20ms +80ms +160ms\n/);
  assert.match(text, /\nv4 \(current\) +1m +10 +5\.0% /);
  assert.match(text, /\nv5 +1m +2\.0 +10\.0% /);
  assert.match(text, /\nv4 \(current\) +5m +50 +1\.0% /);
});

test('no traffic yet: rates 0 and dashes; a server without metrics shows no traffic part', () => {
  const quiet = { '1m': metrics('1m', [{ name: 'v4', current: true, requests: 0, errorRate: null }]), '5m': metrics('5m', []) };
  quiet['1m'].total = figures(0, null, null);
  assert.match(formatStatus(app([]), null, now, style(false), quiet), /\napp +1m +0 +- +- +- +-\n/);
  assert.doesNotMatch(formatStatus(app([]), null, now, style(false), null), /traffic:/);
});
