import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseManifest } from '../manifest/load.ts';
import type { InstanceRecord, ReleaseRecord } from '../model/records.ts';
import { buildRouteTable, urlsFor } from './desired-routes.ts';

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
