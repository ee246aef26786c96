import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseManifest } from '../manifest/load.ts';
import type { InstanceRecord, ReleaseRecord } from '../model/records.ts';
import { buildRouteTable, httpsUrls, urlsFor } from './desired-routes.ts';

const release = (id: string, yaml = ''): ReleaseRecord => ({
  id,
  app: 'hello',
  version: 1,
  buildId: 'b',
  manifest: parseManifest(yaml),
  formation: {},
  envSealed: '',
  description: '',
  status: 'ready',
  createdAt: 0,
});
const instance = (id: string, state: InstanceRecord['state'], releaseId = 'r2', process = 'web'): InstanceRecord => ({
  id,
  app: 'hello',
  releaseId,
  deploymentId: null,
  process,
  ordinal: 0,
  state,
  address: `127.0.0.1:${id.length + 1000}`,
  stateUntil: null,
  createdAt: 0,
  updatedAt: 0,
});

test('serving web instances are active, draining ones draining, the rest unrouted', () => {
  const table = buildRouteTable(
    [
      {
        name: 'hello',
        current: release('r2', 'domains: [hello.example.com]\ndeploy:\n  drain_timeout: 5s\n'),
        instances: [instance('a', 'serving'), instance('bb', 'draining', 'r1'), instance('ccc', 'standby', 'r1'), instance('dddd', 'starting'), instance('eeeee', 'serving', 'r2', 'worker')],
        releaseNames: new Map([['r1', 'v1'], ['r2', 'v2']]),
      },
    ],
    'localhost',
    7,
  );
  assert.deepEqual(table, {
    generation: 7,
    apps: {
      hello: {
        hosts: ['hello.localhost', 'hello.example.com'],
        drainTimeoutMs: 5000,
        https: { redirect: true, hsts: null },
        targets: [
          { id: 'a', release: 'v2', address: '127.0.0.1:1001', weight: 1, state: 'active' },
          { id: 'bb', release: 'v1', address: '127.0.0.1:1002', weight: 0, state: 'draining' },
        ],
      },
    },
  });
});

test('an app without a release still owns its hostname (503 rather than 404)', () => {
  const table = buildRouteTable([{ name: 'fresh', current: null, instances: [], releaseNames: new Map() }], 'apps.test', 1);
  assert.deepEqual(table.apps.fresh.hosts, ['fresh.apps.test']);
});

test('urls omit port 80 and wildcard domains', () => {
  assert.deepEqual(urlsFor('a', parseManifest('domains: ["*.x.com", a.com]'), 'localhost', { port: 80 }), ['http://a.localhost', 'http://a.com']);
  assert.deepEqual(urlsFor('a', null, 'localhost', { port: 8080 }), ['http://a.localhost:8080']);
});

test('an app without a release has no https entry: the proxy\'s defaults apply', () => {
  const table = buildRouteTable([{ name: 'fresh', current: null, instances: [], releaseNames: new Map() }], 'apps.test', 1);
  assert.equal(table.apps.fresh.https, undefined);
});

test('https: in berth.yaml becomes the route\'s redirect and Strict-Transport-Security value', () => {
  const route = (yaml: string) => buildRouteTable([{ name: 'a', current: release('r', yaml), instances: [], releaseNames: new Map() }], 'localhost', 1).apps.a.https;
  assert.deepEqual(route(''), { redirect: true, hsts: null });
  assert.deepEqual(route('https:\n  redirect: false\n'), { redirect: false, hsts: null });
  assert.deepEqual(route('https:\n  hsts: true\n'), { redirect: true, hsts: 'max-age=31536000' });
  assert.deepEqual(route('https:\n  hsts: false\n'), { redirect: true, hsts: null });
  assert.deepEqual(route('https:\n  hsts:\n    max_age: 5m\n    include_subdomains: true\n'), { redirect: true, hsts: 'max-age=300; includeSubDomains' });
  assert.deepEqual(route('https:\n  hsts: { max_age: 400d, include_subdomains: true, preload: true }\n'), { redirect: true, hsts: 'max-age=34560000; includeSubDomains; preload' });
  // A release recorded before berth knew `https:` (its stored manifest has no such key) gets the defaults.
  const old = release('r');
  const { https: _, ...before } = old.manifest;
  assert.deepEqual(buildRouteTable([{ name: 'a', current: { ...old, manifest: before as typeof old.manifest }, instances: [], releaseNames: new Map() }], 'localhost', 1).apps.a.https, { redirect: true, hsts: null });
});

test('urls are https:// for hosts with a served certificate when HTTPS is on, http:// for the rest', () => {
  const now = 1_000_000;
  const cert = (domain: string, source: 'acme' | 'own', notAfter: number, status: 'issued' | 'pending' = 'issued') => ({
    domain, source, app: 'a', status, certPem: 'pem', keySealed: 'sealed', issuer: 'x', notBefore: 0, notAfter, renewAt: null,
    lastError: null, attempts: 0, nextAttemptAt: null, createdAt: 0, updatedAt: 0,
  });
  const manifest = parseManifest('domains: [a.com, www.a.com, old.a.com, b.org, c.net]');
  const certificates = [cert('a.com', 'acme', now + 1), cert('*.a.com', 'own', now + 1), cert('b.org', 'acme', now), cert('c.net', 'acme', now + 1, 'pending')];
  assert.deepEqual(urlsFor('a', manifest, 'localhost', { port: 8080 }, httpsUrls({ port: 8443 }, certificates, now)), [
    'http://a.localhost:8080',
    'https://a.com:8443',
    'https://www.a.com:8443',
    'https://old.a.com:8443',
    // expired at `now`, and not issued yet
    'http://b.org:8080',
    'http://c.net:8080',
  ]);
  assert.deepEqual(urlsFor('a', manifest, 'localhost', { port: 80 }, httpsUrls({ port: 443 }, certificates, now)).slice(0, 2), ['http://a.localhost', 'https://a.com']);
  // HTTPS off: every URL stays http://, certificates or not.
  assert.deepEqual(urlsFor('a', manifest, 'localhost', { port: 80 }, httpsUrls(null, certificates, now)).slice(0, 2), ['http://a.localhost', 'http://a.com']);
});

test('a canary split travels with the app, and its share is in the active targets\' weights too', () => {
  const routing = (percent: number) =>
    buildRouteTable(
      [
        {
          name: 'hello',
          current: release('r1'),
          instances: [instance('s1', 'serving', 'r1'), instance('s22', 'serving', 'r1'), instance('s333', 'serving', 'r1'), instance('c1', 'serving', 'r2'), instance('old', 'draining', 'r0')],
          releaseNames: new Map([['r0', 'v0'], ['r1', 'v1'], ['r2', 'v2']]),
          split: { release: 'v2', percent, sticky: 'cookie' },
        },
      ],
      'localhost',
      1,
    ).apps.hello!;
  const at10 = routing(10);
  assert.deepEqual(at10.split, { release: 'v2', percent: 10, sticky: 'cookie' });
  const weight = (route: typeof at10, id: string) => route.targets.find((t) => t.id === id)!.weight;
  // 3 stable targets of 90 and 1 canary target of 30: 30 / 300 = 10 % by weight alone.
  assert.deepEqual(['s1', 's22', 's333', 'c1', 'old'].map((id) => weight(at10, id)), [90, 90, 90, 30, 0]);
  const at0 = routing(0);
  assert.equal(weight(at0, 'c1'), 0, 'at 0 % the canary gets no new request');
  assert.ok(weight(at0, 's1') > 0);
  assert.equal(at0.split!.percent, 0);
});

test('without a split: no split field, weights as before', () => {
  const table = buildRouteTable([{ name: 'hello', current: release('r1'), instances: [instance('a', 'serving', 'r1')], releaseNames: new Map([['r1', 'v1']]), split: null }], 'localhost', 1);
  assert.equal('split' in table.apps.hello!, false);
  assert.equal(table.apps.hello!.targets[0]!.weight, 1);
});
