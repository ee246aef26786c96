import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Routes } from './live-routes.ts';
import { defaultPoolOptions } from './server.ts';
import { tableFor } from './upstream.test-support.ts';

test('an idle target that leaves the table is forgotten, at an IPv6 address as at an IPv4 one', () => {
  const routes = new Routes(defaultPoolOptions);
  assert.equal(routes.apply(tableFor('app', ['app.localhost'], [{ id: 'v4', address: '127.0.0.1:9' }, { id: 'v6', address: '[::1]:9' }])), true);
  assert.deepEqual(Object.keys(routes.targetStats()).sort(), ['v4', 'v6']);
  routes.apply(tableFor('app', ['app.localhost'], []));
  assert.deepEqual(routes.targetStats(), {});
  routes.closeAll();
});

test('an older table is refused and changes nothing', () => {
  const routes = new Routes(defaultPoolOptions);
  const newer = tableFor('app', ['app.localhost'], [{ id: 'a', address: '127.0.0.1:9' }]);
  const older = { ...tableFor('app', ['other.localhost'], []), generation: newer.generation - 1 };
  routes.apply(newer);
  assert.equal(routes.apply(older), false);
  assert.equal(routes.table, newer);
  assert.equal(routes.resolve('other.localhost'), undefined);
  routes.closeAll();
});
