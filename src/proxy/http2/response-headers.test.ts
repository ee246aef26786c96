import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { isHeadError } from '../http1/request-head.ts';
import { parseResponseHead, type ResponseHead } from '../http1/response-head.ts';
import { proxyErrors } from '../pages.ts';
import { errorResponse, interimHeaders, responseHeaders } from './response-headers.ts';

function head(text: string): ResponseHead {
  const parsed = parseResponseHead(Buffer.from(text, 'latin1'), 64 * 1024);
  if (parsed === null || isHeadError(parsed)) assert.fail(`unparsable: ${JSON.stringify(parsed)}`);
  return parsed;
}

describe('http2 response headers', () => {
  test('hop-by-hop fields, those Connection names and the HTTP/1 framing are dropped; Content-Length written once', () => {
    const res = head(
      'HTTP/1.1 200 OK\r\nConnection: keep-alive, X-Secret-Hop\r\nX-Secret-Hop: no\r\nKeep-Alive: timeout=5\r\n' +
        'Proxy-Connection: keep-alive\r\nUpgrade: h2c\r\nTrailer: x\r\nContent-Length: 2\r\nContent-Length: 2\r\n' +
        'Content-Type: text/plain\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\n\r\n',
    );
    assert.deepEqual(responseHeaders(res, null), [':status', '200', 'content-type', 'text/plain', 'set-cookie', 'a=1', 'set-cookie', 'b=2', 'content-length', '2']);
  });

  test('a chunked response loses its Transfer-Encoding and has no Content-Length', () => {
    assert.deepEqual(responseHeaders(head('HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\nX-A: 1\r\n\r\n'), null), [':status', '201', 'x-a', '1']);
  });

  test("HSTS: the app's setting replaces what the app sent", () => {
    const res = head('HTTP/1.1 200 OK\r\nStrict-Transport-Security: max-age=1\r\nContent-Length: 0\r\n\r\n');
    assert.deepEqual(responseHeaders(res, 'max-age=31536000'), [':status', '200', 'content-length', '0', 'strict-transport-security', 'max-age=31536000']);
    assert.deepEqual(responseHeaders(res, null), [':status', '200', 'strict-transport-security', 'max-age=1', 'content-length', '0']);
  });

  test('obs-text in a value stays the same latin1 string (the same bytes go out)', () => {
    const res = head('HTTP/1.1 200 OK\r\nX-Name: caf\xe9\r\n\r\n');
    assert.deepEqual(responseHeaders(res, null), [':status', '200', 'x-name', 'caf\xe9']);
  });

  test('103 Early Hints as a null-prototype object, repeated links as an array', () => {
    const hints = interimHeaders(head('HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\nLink: </b.js>; rel=preload\r\nConnection: keep-alive\r\n\r\n'));
    assert.equal(Object.getPrototypeOf(hints), null);
    assert.deepEqual({ ...hints }, { ':status': '103', link: ['</a.css>; rel=preload', '</b.js>; rel=preload'] });
  });

  test("the proxy's pages are the HTTP/1 path's, as HTTP/2 headers and body", () => {
    const page = errorResponse(proxyErrors.noInstance('shop'), { json: true, head: false, hsts: null });
    assert.deepEqual(page.headers.slice(0, 2), [':status', '503']);
    const fields = new Map<string, string>();
    for (let i = 2; i < page.headers.length; i += 2) fields.set(page.headers[i], page.headers[i + 1]);
    assert.equal(fields.get('x-berth-error'), 'no-healthy-instance');
    assert.equal(fields.get('retry-after'), '5');
    assert.equal(fields.get('content-type'), 'application/json');
    assert.equal(Number(fields.get('content-length')), page.body.length);
    assert.equal(fields.has('connection'), false);
    assert.equal(JSON.parse(page.body.toString()).error.code, 'no-healthy-instance');
    const html = errorResponse(proxyErrors.noApp('x.localhost'), { json: false, head: false, hsts: 'max-age=60' });
    assert.equal(Number(html.headers[html.headers.indexOf('content-length') + 1]), html.body.length, 'the length counts the UTF-8 bytes');
    assert.equal(html.headers[html.headers.indexOf('strict-transport-security') + 1], 'max-age=60');
    assert.equal(errorResponse(proxyErrors.noApp('x'), { json: false, head: true, hsts: null }).body.length, 0);
  });
});
