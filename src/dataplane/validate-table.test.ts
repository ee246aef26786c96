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

test("a canary split: null or absent, else a release name, a whole percentage 0..100 and cookie or address", () => {
  const withSplit = (split: unknown) => ({ generation: 1, apps: { app: { hosts: ['a.localhost'], drainTimeoutMs: 0, targets: [], split } } });
  for (const ok of [undefined, null, { release: 'v4', percent: 0, sticky: 'cookie' }, { release: 'v4', percent: 100, sticky: 'address' }, { release: 'r'.repeat(64), percent: 10, sticky: 'cookie' }]) {
    assert.deepEqual(routeTableProblems(withSplit(ok)), [], JSON.stringify(ok));
  }
  const at = 'apps.app.split';
  assert.deepEqual(routeTableProblems(withSplit('v4')), [`${at} must be null or an object { release, percent, sticky }`]);
  assert.deepEqual(routeTableProblems(withSplit([])), [`${at} must be null or an object { release, percent, sticky }`]);
  for (const release of ['', 'r'.repeat(65), 4, null]) {
    assert.deepEqual(routeTableProblems(withSplit({ release, percent: 10, sticky: 'cookie' })), [`${at}.release must be a release name (1 to 64 characters)`], String(release));
  }
  for (const percent of [-1, 101, 10.5, '10', NaN, Infinity, null]) {
    assert.deepEqual(routeTableProblems(withSplit({ release: 'v4', percent, sticky: 'cookie' })), [`${at}.percent must be an integer from 0 to 100`], String(percent));
  }
  for (const sticky of ['Cookie', 'ip', '', undefined]) {
    assert.deepEqual(routeTableProblems(withSplit({ release: 'v4', percent: 10, sticky })), [`${at}.sticky must be cookie or address`], String(sticky));
  }
  assert.equal(routeTableProblems(withSplit({})).length, 3, 'every problem at once');
});
