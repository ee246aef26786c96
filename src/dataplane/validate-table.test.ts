import { test } from 'node:test';
import assert from 'node:assert/strict';
import { routeTableProblems } from './validate-table.ts';

const withAddress = (address: unknown) => ({
  generation: 1,
  apps: { app: { hosts: ['app.localhost'], drainTimeoutMs: 0, targets: [{ id: 't', release: 'v1', address, weight: 1, state: 'active' }] } },
});

test('target addresses are host:port, IPv6 in brackets', () => {
  for (const ok of ['127.0.0.1:3000', '[::1]:3000', 'web-1:80']) assert.deepEqual(routeTableProblems(withAddress(ok)), [], ok);
  for (const bad of ['3000', ':3000', '127.0.0.1:70000', '::1:3000', 'a b:80', 42]) {
    assert.deepEqual(routeTableProblems(withAddress(bad)), ['apps.app.targets[0].address must be host:port'], String(bad));
  }
});

test('a table that is not one says what is wrong', () => {
  assert.deepEqual(routeTableProblems(null), ['table must be an object']);
  assert.deepEqual(routeTableProblems({ generation: -1, apps: {} }), ['generation must be a non-negative integer']);
});
