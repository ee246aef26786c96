import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { rawExchange, request } from '../../test/support/http.ts';
import { makeTestCa, tlsCertificate, type TestLeaf } from '../../test/support/tls-certs.ts';
import type { AppRoute, RouteTable } from '../dataplane/route-table.ts';
import { edgeAnswer, type HttpEdge } from './http-edge.ts';
import { parseRequestHead, type RequestHead } from './http1/request-head.ts';
import type { AppRuntime } from './live-routes.ts';
import { startProxyServer, type ProxyServer } from './server.ts';
import { startUpstream, type TestUpstream } from './upstream.test-support.ts';

const head = (text: string): RequestHead => parseRequestHead(Buffer.from(text), 32 * 1024) as RequestHead;
const appWith = (redirect: boolean): AppRuntime => ({ name: 'a', targets: [], drainTimeoutMs: 0, https: { redirect, hsts: null } });
const edgeOf = (port: number | null, tokens: Record<string, string> = {}): HttpEdge => ({
  keyAuthorization: (token) => new Map(Object.entries(tokens)).get(token),
  httpsPortFor: () => port,
  answered: () => {},
});

test('edgeAnswer: challenges first, for any host; redirects keep the target and name a port other than 443', () => {
  const get = (target: string, host = 'a.test') => head(`GET ${target} HTTP/1.1\r\nHost: ${host}\r\n\r\n`);
  const cases: [RequestHead, AppRuntime | undefined, HttpEdge, RegExp | null][] = [
    [get('/.well-known/acme-challenge/tok'), undefined, edgeOf(null, { tok: 'tok.x' }), /^HTTP\/1\.1 200 OK\r\nContent-Type: text\/plain\r\nContent-Length: 5\r\n[^]*\r\n\r\ntok\.x$/],
    [get('/.well-known/acme-challenge/tok'), appWith(true), edgeOf(443, { tok: 'tok.x' }), /^HTTP\/1\.1 200 OK\r\n/],
    [get('/.well-known/acme-challenge/nope'), undefined, edgeOf(null, { tok: 'tok.x' }), /^HTTP\/1\.1 404 Not Found\r\n[^]*X-Berth-Error: acme-challenge-unknown/],
    [head('HEAD /.well-known/acme-challenge/tok HTTP/1.1\r\nHost: a\r\n\r\n'), undefined, edgeOf(null, { tok: 'tok.x' }), /Content-Length: 5\r\n[^]*\r\n\r\n$/],
    [head('POST /.well-known/acme-challenge/tok HTTP/1.1\r\nHost: a.test\r\nContent-Length: 0\r\n\r\n'), undefined, edgeOf(null, { tok: 'tok.x' }), null],
    [get('/x?y=1'), appWith(true), edgeOf(443), /^HTTP\/1\.1 308 Permanent Redirect\r\nLocation: https:\/\/a\.test\/x\?y=1\r\nContent-Length: 0\r\n/],
    [get('/x', 'A.Test:8080'), appWith(true), edgeOf(8443), /\r\nLocation: https:\/\/a\.test:8443\/x\r\n/],
    [get('/x'), appWith(false), edgeOf(443), null],
    [get('/x'), appWith(true), edgeOf(null), null],
    [get('/x'), undefined, edgeOf(443), null],
    [head('OPTIONS * HTTP/1.1\r\nHost: a.test\r\n\r\n'), appWith(true), edgeOf(443), null],
  ];
  for (const [req, app, edge, expected] of cases) {
    const answer = edgeAnswer(req, app, edge, false);
    if (expected === null) assert.equal(answer, null, `${req.method} ${req.target}`);
    else assert.match(answer ?? '(null)', expected, `${req.method} ${req.target}`);
  }
  assert.match(edgeAnswer(get('/x'), appWith(true), edgeOf(443), true)!, /\r\nConnection: close\r\n/);
});

describe('proxy: the HTTP listener answers ACME challenges and redirects to HTTPS', () => {
  let proxy: ProxyServer;
  let upstream: TestUpstream;
  let leaf: TestLeaf;
  let port: number;
  let httpsPort: number;
  before(async () => {
    const ca = makeTestCa();
    leaf = ca.issue(['secure.test', 'old.test', 'noredirect.test']);
    proxy = await startProxyServer({ host: '127.0.0.1', port: 0, https: { host: '127.0.0.1', port: 0 } });
    upstream = await startUpstream('up');
    const route = (hosts: string[], https?: AppRoute['https']): AppRoute => ({
      hosts,
      drainTimeoutMs: 1000,
      targets: [{ id: hosts[0], release: 'v1', address: upstream.address, weight: 1, state: 'active' }],
      ...(https ? { https } : {}),
    });
    const table: RouteTable = {
      generation: 1,
      apps: {
        secure: route(['secure.test', 'nocert.test']),
        old: route(['old.test']),
        off: route(['noredirect.test'], { redirect: false, hsts: null }),
      },
    };
    proxy.apply(table);
    proxy.applyCertificates({
      generation: 1,
      certificates: [tlsCertificate('now', ['secure.test', 'noredirect.test'], leaf), tlsCertificate('expired', ['old.test'], leaf, Date.now() - 1000)],
    });
    proxy.setChallenges({ tok1: 'tok1.thumb' });
    port = proxy.address.port;
    httpsPort = proxy.httpsAddress!.port;
  });
  after(async () => {
    await proxy.close(100);
    await upstream.close();
  });

  test('a challenge is answered for any host, app or none; an unknown token is a 404; the map is replaced whole', async () => {
    const before = proxy.stats().tls.challenges;
    for (const host of ['secure.test', 'no-app-here.test']) {
      const reply = await request({ port, host, path: '/.well-known/acme-challenge/tok1' });
      assert.equal(reply.status, 200, host);
      assert.equal(reply.headers['content-type'], 'text/plain');
      assert.equal(reply.body, 'tok1.thumb');
    }
    assert.equal((await request({ port, host: 'secure.test', path: '/.well-known/acme-challenge/tok2' })).status, 404);
    proxy.setChallenges({ tok2: 'tok2.thumb' });
    assert.equal((await request({ port, host: 'x.test', path: '/.well-known/acme-challenge/tok2' })).body, 'tok2.thumb');
    assert.equal((await request({ port, host: 'x.test', path: '/.well-known/acme-challenge/tok1' })).status, 404, 'tok1 went with the old map');
    assert.throws(() => proxy.setChallenges({ 'bad token': 'x' }), /the challenge answers were refused: challenge token "bad token"/);
    assert.equal((await request({ port, host: 'x.test', path: '/.well-known/acme-challenge/tok2' })).body, 'tok2.thumb', 'a refused map changes nothing');
    assert.equal(proxy.stats().tls.challenges - before, 6);
    assert.equal(upstream.requests.length, 0, 'no app saw any of it');
  });

  test('a host with a valid certificate is redirected with 308 to its https:// URL; the others are proxied', async () => {
    const before = proxy.stats().tls.redirects;
    const moved = await request({ port, host: 'secure.test', path: '/a/b?c=d' });
    assert.equal(moved.status, 308);
    assert.equal(moved.headers.location, `https://secure.test:${httpsPort}/a/b?c=d`);
    for (const host of ['nocert.test', 'old.test', 'noredirect.test']) {
      const reply = await request({ port, host, path: '/p' });
      assert.equal(reply.status, 200, `${host} is served over HTTP`);
    }
    assert.equal(proxy.stats().tls.redirects - before, 1);
  });

  test('keep-alive framing: bodiless requests keep the connection, a request with a body ends it unread', async () => {
    const seen = upstream.requests.length;
    const twoGets = await rawExchange(port, 'GET /1 HTTP/1.1\r\nHost: secure.test\r\n\r\nGET /2 HTTP/1.1\r\nHost: secure.test\r\n\r\n', 500);
    assert.equal([...twoGets.matchAll(/HTTP\/1\.1 308 /g)].length, 2, 'both answered on one connection');
    assert.doesNotMatch(twoGets, /Connection: close/);
    const post = 'POST /form HTTP/1.1\r\nHost: secure.test\r\nContent-Length: 11\r\n\r\nhello worldGET /after HTTP/1.1\r\nHost: secure.test\r\n\r\n';
    const started = Date.now();
    const posted = await rawExchange(port, post, 2000);
    assert.ok(Date.now() - started < 1500, 'the proxy closed the connection');
    assert.match(posted, /^HTTP\/1\.1 308 Permanent Redirect\r\nLocation: https:\/\/secure\.test:\d+\/form\r\n[^]*Connection: close\r\n\r\n$/);
    assert.equal(upstream.requests.length, seen, 'nothing reached the app, not even the body read as a request');
  });
});
