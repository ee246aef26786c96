import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isHeadError, normalizeHost, parseRequestHead } from './request-head.ts';

const parse = (text: string, max = 8192) => parseRequestHead(Buffer.from(text, 'latin1'), max);

test('parses a plain request', () => {
  const head = parse('GET /a?b=1 HTTP/1.1\r\nHost: Example.COM:8080\r\nAccept: */*\r\n\r\nrest');
  assert.ok(head && !isHeadError(head));
  assert.equal(head.method, 'GET');
  assert.equal(head.target, '/a?b=1');
  assert.equal(head.host, 'example.com');
  assert.equal(head.rawHost, 'Example.COM:8080');
  assert.equal(head.keepAlive, true);
  assert.equal(head.contentLength, -1);
  assert.equal(head.size, 'GET /a?b=1 HTTP/1.1\r\nHost: Example.COM:8080\r\nAccept: */*\r\n\r\n'.length);
});

test('needs more bytes until the head is complete', () => {
  assert.equal(parse('GET / HTTP/1.1\r\nHost: x\r\n'), null);
});

test('keep-alive, close, upgrade and HTTP/1.0 semantics', () => {
  const close = parse('GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
  assert.ok(close && !isHeadError(close) && close.keepAlive === false);
  const v10 = parse('GET / HTTP/1.0\r\n\r\n');
  assert.ok(v10 && !isHeadError(v10) && v10.keepAlive === false && v10.host === null);
  const ws = parse('GET /ws HTTP/1.1\r\nHost: x\r\nConnection: keep-alive, Upgrade\r\nUpgrade: WebSocket\r\n\r\n');
  assert.ok(ws && !isHeadError(ws) && ws.upgrade === 'websocket');
  const noConn = parse('GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n\r\n');
  assert.ok(noConn && !isHeadError(noConn) && noConn.upgrade === null, 'Upgrade without Connection: upgrade is not an upgrade');
});

test('absolute-form targets take their host from the URI', () => {
  const head = parse('GET http://App.Example/p?q HTTP/1.1\r\nHost: other\r\n\r\n');
  assert.ok(head && !isHeadError(head));
  assert.equal(head.host, 'app.example');
  assert.equal(head.target, '/p?q');
});

test('leading blank line before the request line is tolerated', () => {
  const head = parse('\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n');
  assert.ok(head && !isHeadError(head) && head.method === 'GET');
});

// Requests a strict proxy must refuse: each one is a known request-smuggling or confusion vector.
const refused: [string, string, number][] = [
  ['CL and TE together', 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n', 400],
  ['TE other than chunked', 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n', 501],
  ['TE with odd spelling', 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: xchunked\r\n\r\n', 501],
  ['TE repeated', 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n', 400],
  ['TE in HTTP/1.0', 'POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n', 400],
  ['conflicting Content-Length', 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n', 400],
  ['repeated identical Content-Length', 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\n', 400],
  ['lowercase method', 'get / HTTP/1.1\r\nHost: x\r\n\r\n', 400],
  ['fragment in target', 'GET /a#b HTTP/1.1\r\nHost: x\r\n\r\n', 400],
  ['dot segments above root', 'GET /a/../../b HTTP/1.1\r\nHost: x\r\n\r\n', 400],
  ['encoded dot segments above root', 'GET /%2e%2e/b HTTP/1.1\r\nHost: x\r\n\r\n', 400],
  ['an expectation other than 100-continue', 'POST / HTTP/1.1\r\nHost: x\r\nExpect: 200-ok\r\nContent-Length: 1\r\n\r\n', 417],
  ['Content-Length not a number', 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: +3\r\n\r\n', 400],
  ['Content-Length list', 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3, 3\r\n\r\n', 400],
  ['space before colon', 'GET / HTTP/1.1\r\nHost : x\r\n\r\n', 400],
  ['obs-fold continuation', 'GET / HTTP/1.1\r\nHost: x\r\nX-A: 1\r\n  2\r\n\r\n', 400],
  ['bare LF inside a header', 'GET / HTTP/1.1\r\nHost: x\nX-A: 1\r\n\r\n', 400],
  ['bare CR in a value', 'GET / HTTP/1.1\r\nHost: x\r\nX-A: 1\r2\r\n\r\n', 400],
  ['NUL in a value', 'GET / HTTP/1.1\r\nHost: x\r\nX-A: 1\u00002\r\n\r\n', 400],
  ['missing Host in HTTP/1.1', 'GET / HTTP/1.1\r\nAccept: */*\r\n\r\n', 400],
  ['two Host headers', 'GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n', 400],
  ['invalid Host', 'GET / HTTP/1.1\r\nHost: a b\r\n\r\n', 400],
  ['Host with bad port', 'GET / HTTP/1.1\r\nHost: a:x\r\n\r\n', 400],
  ['space in target', 'GET /a b HTTP/1.1\r\nHost: x\r\n\r\n', 400],
  ['extra space in request line', 'GET  / HTTP/1.1\r\nHost: x\r\n\r\n', 400],
  ['bad method token', 'G(T / HTTP/1.1\r\nHost: x\r\n\r\n', 400],
  ['HTTP/2.0 over text', 'GET / HTTP/2.0\r\nHost: x\r\n\r\n', 505],
  ['not HTTP at all', 'GET / FTP/1.1\r\nHost: x\r\n\r\n', 400],
  ['CONNECT authority form', 'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com\r\n\r\n', 405],
  ['asterisk for GET', 'GET * HTTP/1.1\r\nHost: x\r\n\r\n', 400],
  ['bare LF line endings', 'GET / HTTP/1.1\nHost: x\n\n', 400],
  ['header line without colon', 'GET / HTTP/1.1\r\nHost: x\r\nnonsense\r\n\r\n', 400],
];

for (const [name, text, status] of refused) {
  test(`refuses: ${name}`, () => {
    const result = parse(text);
    assert.ok(result !== null && isHeadError(result), `expected an error, got ${JSON.stringify(result)}`);
    assert.equal(result.status, status);
  });
}

test('a head over the size limit is refused with 431, complete or not', () => {
  const big = 'GET / HTTP/1.1\r\nHost: x\r\nX-Big: ' + 'a'.repeat(200);
  const partial = parse(big, 100);
  assert.ok(partial && isHeadError(partial) && partial.status === 431);
  const complete = parse(big + '\r\n\r\n', 100);
  assert.ok(complete && isHeadError(complete) && complete.status === 431);
});

test('normalizeHost', () => {
  assert.equal(normalizeHost('Example.com.'), 'example.com');
  assert.equal(normalizeHost('[::1]:8080'), '[::1]');
  assert.equal(normalizeHost('x:99999x'), null);
  assert.equal(normalizeHost('a/b'), null);
  assert.equal(normalizeHost(''), null);
});
