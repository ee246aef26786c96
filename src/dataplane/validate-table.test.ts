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

test("an app's HTTPS behaviour: redirect a boolean, HSTS null or one header value that cannot end its line", () => {
  const withHttps = (https: unknown) => ({ generation: 1, apps: { app: { hosts: ['a.localhost'], drainTimeoutMs: 0, targets: [], https } } });
  assert.deepEqual(routeTableProblems(withHttps({ redirect: true, hsts: null })), []);
  assert.deepEqual(routeTableProblems(withHttps({ redirect: false, hsts: 'max-age=63072000; includeSubDomains; preload' })), []);
  assert.deepEqual(routeTableProblems(withHttps('yes')), ['apps.app.https must be an object { redirect, hsts }']);
  assert.deepEqual(routeTableProblems(withHttps({ redirect: 'yes', hsts: null })), ['apps.app.https.redirect must be true or false']);
  for (const hsts of ['max-age=1\r\nSet-Cookie: a=b', '', 'x'.repeat(1025), 42]) {
    assert.deepEqual(routeTableProblems(withHttps({ redirect: true, hsts })), ['apps.app.https.hsts must be null or a Strict-Transport-Security value (printable ASCII, at most 1024 characters)']);
  }
  assert.deepEqual(routeTableProblems({ generation: 1, apps: { app: null } }), ['apps.app must be an object { hosts, targets, drainTimeoutMs }']);
});
