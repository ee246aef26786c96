import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { connect } from 'node:net';
import { isBerthError } from '../errors/catalogue.ts';
import { silentLogger } from '../lib/log.ts';
import { resolveServerConfig } from './config.ts';
import { MetricsNotReadyError, startMetricsListener } from './metrics-listener.ts';

const ask = (port: number, method: string, path: string) =>
  new Promise<{ status: number; headers: Record<string, unknown>; body: string }>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (c) => (body += c)).on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on('error', reject).end(method === 'POST' ? 'x=1' : undefined);
  });

test('serves GET /metrics without a token; any other path 404, any other method 405', async () => {
  let scrapes = 0;
  const listener = await startMetricsListener({ listen: { host: '127.0.0.1', port: 0 }, scrape: async () => `berth_build_info{version="t",driver="fake"} ${++scrapes}\n`, log: silentLogger });
  try {
    const ok = await ask(listener.address.port, 'GET', '/metrics');
    assert.equal(ok.status, 200);
    assert.equal(ok.headers['content-type'], 'text/plain; version=0.0.4; charset=utf-8');
    assert.equal(ok.body, 'berth_build_info{version="t",driver="fake"} 1\n');
    assert.equal((await ask(listener.address.port, 'GET', '/metrics?x=1')).status, 200);
    for (const path of ['/', '/v1/metrics', '/metrics/', '/v1/apps']) assert.equal((await ask(listener.address.port, 'GET', path)).status, 404, path);
    const post = await ask(listener.address.port, 'POST', '/metrics');
    assert.equal(post.status, 405);
    assert.equal(post.headers.allow, 'GET, HEAD');
    assert.equal((await ask(listener.address.port, 'DELETE', '/metrics')).status, 405);
  } finally {
    await listener.close();
  }
});

test('garbage on the socket closes that connection; the listener keeps serving', async () => {
  const listener = await startMetricsListener({ listen: { host: '127.0.0.1', port: 0 }, scrape: async () => 'x 1\n', log: silentLogger });
  try {
    await new Promise<void>((resolve) => {
      const socket = connect(listener.address.port, '127.0.0.1', () => socket.write('\x16\x03\x01\x00\xff garbage\r\n\r\n'));
      socket.on('close', () => resolve()).on('error', () => {}).resume();
    });
    assert.equal((await ask(listener.address.port, 'GET', '/metrics')).status, 200);
  } finally {
    await listener.close();
  }
});

test('a failing scrape is a 500 that names nothing internal', async () => {
  const listener = await startMetricsListener({ listen: { host: '127.0.0.1', port: 0 }, scrape: async () => { throw new Error('/secret/path exploded'); }, log: silentLogger });
  try {
    const res = await ask(listener.address.port, 'GET', '/metrics');
    assert.equal(res.status, 500);
    assert.doesNotMatch(res.body, /secret/);
  } finally {
    await listener.close();
  }
});

test('--metrics / BERTH_METRICS: off by default, HOST:PORT taken, anything else a config error naming it', () => {
  assert.equal(resolveServerConfig({}, {}).metrics, null);
  assert.deepEqual(resolveServerConfig({ metrics: '127.0.0.1:9464' }, {}).metrics, { host: '127.0.0.1', port: 9464 });
  assert.deepEqual(resolveServerConfig({}, { BERTH_METRICS: '9100' }).metrics, { host: '127.0.0.1', port: 9100 });
  assert.equal(resolveServerConfig({ metrics: 'off' }, { BERTH_METRICS: '9100' }).metrics, null);
  for (const [flags, env, path] of [[{ metrics: 'localhost:99999' }, {}, '--metrics'], [{}, { BERTH_METRICS: 'http://x:1/' }, 'BERTH_METRICS']] as const) {
    assert.throws(
      () => resolveServerConfig(flags, env),
      (e) => isBerthError(e) && e.code === 'CONFIG_INVALID' && e.message.includes(`${path}: "`) && e.message.includes('is not HOST:PORT') && e.message.includes('9464'),
    );
  }
});

test('an address it cannot listen on is refused at start', async () => {
  const first = await startMetricsListener({ listen: { host: '127.0.0.1', port: 0 }, scrape: async () => '', log: silentLogger });
  try {
    await assert.rejects(startMetricsListener({ listen: { host: '127.0.0.1', port: first.address.port }, scrape: async () => '', log: silentLogger }), /EADDRINUSE/);
  } finally {
    await first.close();
  }
});

test('while the daemon starts, a scrape is 503 with Retry-After', async () => {
  const listener = await startMetricsListener({ listen: { host: '127.0.0.1', port: 0 }, scrape: async () => { throw new MetricsNotReadyError(); }, log: silentLogger });
  try {
    const res = await ask(listener.address.port, 'GET', '/metrics');
    assert.equal(res.status, 503);
    assert.equal(res.headers['retry-after'], '1');
  } finally {
    await listener.close();
  }
});
