import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { buildRequestHead } from '../http1/forward-head.ts';
import { isHeadError, type HeadError, type RequestHead } from '../http1/request-head.ts';
import { readRequest } from './request.ts';

const BASE = [':method', 'GET', ':scheme', 'https', ':path', '/', ':authority', 'app.localhost'];

const read = (extra: string[], options: { base?: string[]; endStream?: boolean; max?: number } = {}) =>
  readRequest([...(options.base ?? BASE), ...extra], options.endStream ?? true, options.max ?? 32 * 1024);

function ok(result: RequestHead | HeadError): RequestHead {
  if (isHeadError(result)) assert.fail(`refused: ${result.status} ${result.reason}`);
  return result;
}

function refused(result: RequestHead | HeadError): HeadError {
  if (!isHeadError(result)) assert.fail('accepted');
  return result;
}

describe('http2 request: header block -> RequestHead', () => {
  test('the host is the HTTP/1 rule: lowercased, port and trailing dot stripped; the raw authority kept for X-Forwarded-Host', () => {
    const req = ok(read([], { base: [':method', 'GET', ':scheme', 'https', ':path', '/a?b=1', ':authority', 'App.Localhost.:8443'] }));
    assert.equal(req.host, 'app.localhost');
    assert.equal(req.rawHost, 'App.Localhost.:8443');
    assert.equal(req.target, '/a?b=1');
  });

  test('without :authority the host header is used; both present must name the same host', () => {
    assert.equal(ok(read(['host', 'x.localhost'], { base: [':method', 'GET', ':scheme', 'https', ':path', '/'] })).host, 'x.localhost');
    assert.equal(ok(read(['host', 'APP.localhost:443'])).host, 'app.localhost');
    assert.match(refused(read(['host', 'other.localhost'])).reason, /Host differs/);
    assert.match(refused(read([], { base: [':method', 'GET', ':scheme', 'https', ':path', '/'] })).reason, /missing :authority/);
    assert.match(refused(read([], { base: [':method', 'GET', ':scheme', 'https', ':path', '/', ':authority', 'user@app.localhost'] })).reason, /invalid :authority/);
  });

  test('cookies split by the client are joined with "; " where the first stood', () => {
    const req = ok(read(['cookie', 'a=1', 'accept', '*/*', 'cookie', 'b=2', 'cookie', 'c=3']));
    assert.deepEqual(req.names, ['cookie', 'accept']);
    assert.deepEqual(req.values, ['a=1; b=2; c=3', '*/*']);
  });

  test('framing: Content-Length kept; a body without one goes chunked; none when the stream ended with its headers', () => {
    const withLength = ok(read(['content-length', '5'], { endStream: false }));
    assert.equal(withLength.contentLength, 5);
    assert.equal(withLength.chunked, false);
    const chunked = ok(read([], { endStream: false }));
    assert.equal(chunked.chunked, true);
    assert.match(buildRequestHead(chunked, '10.0.0.1', 'https', 'id-1'), /\r\nTransfer-Encoding: chunked\r\n/);
    const none = ok(read([]));
    assert.equal(none.chunked, false);
    assert.equal(none.contentLength, -1);
    assert.doesNotMatch(buildRequestHead(none, '10.0.0.1', 'https', 'id-1'), /Content-Length|Transfer-Encoding/i);
  });

  test('the forwarded head is the HTTP/1 path\'s: Host, X-Forwarded-*, no client-chosen forwarding headers, no te', () => {
    const req = ok(read(['te', 'trailers', 'x-forwarded-for', '6.6.6.6', 'forwarded', 'for=6.6.6.6', 'x-app', 'kept']));
    const head = buildRequestHead(req, '10.0.0.1', 'https', 'id-1');
    assert.equal(
      head,
      'GET / HTTP/1.1\r\nx-app: kept\r\nHost: app.localhost\r\nX-Forwarded-For: 10.0.0.1\r\nX-Forwarded-Proto: https\r\nX-Request-ID: id-1\r\nX-Forwarded-Host: app.localhost\r\n\r\n',
    );
  });

  const refusals: [string, string[], number, RegExp, { base?: string[]; endStream?: boolean; max?: number }?][] = [
    ['CONNECT', [], 405, /CONNECT/, { base: [':method', 'CONNECT', ':authority', 'app.localhost:443'] }],
    ['extended CONNECT (h2 WebSockets)', [], 405, /CONNECT/, { base: [':method', 'CONNECT', ':protocol', 'websocket', ':scheme', 'https', ':path', '/ws', ':authority', 'app.localhost'] }],
    ['connection header', ['connection', 'close'], 400, /connection-specific/],
    ['keep-alive header', ['keep-alive', '5'], 400, /connection-specific/],
    ['transfer-encoding header', ['transfer-encoding', 'chunked'], 400, /connection-specific/],
    ['upgrade header', ['upgrade', 'websocket'], 400, /connection-specific/],
    ['te other than trailers', ['te', 'gzip'], 400, /TE/],
    ['repeated Content-Length', ['content-length', '1', 'content-length', '1'], 400, /repeated Content-Length/, { endStream: false }],
    ['Content-Length not digits', ['content-length', '+1'], 400, /invalid Content-Length/, { endStream: false }],
    ['Content-Length on a request without body', ['content-length', '3'], 400, /announces a body/],
    ['uppercase header name', ['X-Up', '1'], 400, /header name/],
    ['control character in a value', ['x-a', 'a\x01b'], 400, /invalid character/],
    ['pseudo-header after a regular one', ['x-a', '1', ':path', '/again'], 400, /pseudo-header after/],
    ['unknown pseudo-header', [':status', '200'], 400, /unknown pseudo-header/],
    ['repeated :path', [], 400, /repeated :path/, { base: [...BASE, ':path', '/b'] }],
    ['lowercase method', [], 400, /invalid method/, { base: [':method', 'get', ':scheme', 'https', ':path', '/', ':authority', 'a'] }],
    ['missing :method', [], 400, /missing :method/, { base: [':scheme', 'https', ':path', '/', ':authority', 'a'] }],
    ['unknown scheme', [], 400, /scheme/, { base: [':method', 'GET', ':scheme', 'ftp', ':path', '/', ':authority', 'a'] }],
    ['path not origin-form', [], 400, /invalid request target/, { base: [':method', 'GET', ':scheme', 'https', ':path', 'http://a/', ':authority', 'a'] }],
    ['* for GET', [], 400, /invalid request target/, { base: [':method', 'GET', ':scheme', 'https', ':path', '*', ':authority', 'a'] }],
    ['fragment', [], 400, /fragment/, { base: [':method', 'GET', ':scheme', 'https', ':path', '/a#b', ':authority', 'a'] }],
    ['climbing above /', [], 400, /climbs above/, { base: [':method', 'GET', ':scheme', 'https', ':path', '/a/%2e%2e/%2e%2e/etc', ':authority', 'a'] }],
    ['space in path', [], 400, /invalid request target/, { base: [':method', 'GET', ':scheme', 'https', ':path', '/a b', ':authority', 'a'] }],
    ['expectation other than 100-continue', ['expect', 'magic'], 417, /expectation/],
    ['header list over the limit', ['x-big', 'x'.repeat(200)], 431, /too large/, { max: 256 }],
  ];
  for (const [name, extra, status, reason, options] of refusals) {
    test(`refused: ${name} (${status})`, () => {
      const error = refused(read(extra, options));
      assert.equal(error.status, status);
      assert.match(error.reason, reason);
    });
  }

  test('OPTIONS * and Expect: 100-continue pass', () => {
    assert.equal(ok(read([], { base: [':method', 'OPTIONS', ':scheme', 'https', ':path', '*', ':authority', 'a'] })).target, '*');
    assert.equal(ok(read(['expect', '100-Continue'], { endStream: false })).chunked, true);
  });
});
