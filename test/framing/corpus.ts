/**
 * The framing corpus: a few hundred client byte streams built to make two HTTP/1.1 parsers disagree about
 * where a request ends. Families: Connection tokens naming framing headers (the hole an outside probe
 * found), Content-Length and Transfer-Encoding spellings and combinations, chunk forms, pipelining,
 * Expect, HTTP/1.0, upgrades, and malformed heads. Each case is sent whole and again split at awkward
 * places, and a few byte by byte, so the proxy's incremental parsing is exercised too.
 */

export const HOST = 'app.test';

export interface FramingCase {
  name: string;
  family: string;
  /** The bytes as the client writes them, one write per element. */
  deliveries: Buffer[];
}

const b = (text: string) => Buffer.from(text, 'latin1');

/** A request head; `headers` are raw lines (so that broken spellings stay broken). */
const head = (requestLine: string, headers: string[]) => `${requestLine}\r\n${headers.map((h) => h + '\r\n').join('')}\r\n`;
const host = `Host: ${HOST}`;
const after = head('GET /after HTTP/1.1', [host]);
/** A complete request inside a body: what a smuggler hopes the app reads as the next request. */
const smuggled = head('POST /capture HTTP/1.1', [host, 'Content-Length: 200']);
const chunk = (data: string) => `${data.length.toString(16)}\r\n${data}\r\n`;
const chunked = (...parts: string[]) => parts.map(chunk).join('') + '0\r\n\r\n';

function connectionCases(): [string, string][] {
  const tokens = [
    'keep-alive',
    'close',
    'Content-Length',
    'keep-alive, Content-Length',
    'CONTENT-LENGTH',
    ',, content-length ,,',
    'Transfer-Encoding',
    'keep-alive, Transfer-Encoding',
    'Host',
    'content-length, host, transfer-encoding',
    'TE',
    'Upgrade',
    'X-Custom',
    'keep-alive, X-Custom',
    'x-forwarded-for',
    'Expect',
    'Content-Type',
  ];
  const out: [string, string][] = [];
  for (const token of tokens) {
    const extra = ['X-Custom: 1', 'Content-Type: text/plain', 'Expect: 100-continue', 'TE: trailers'];
    const smuggledBody = smuggled;
    out.push([`Connection: ${token}; Content-Length body holding a request`, head('POST /a HTTP/1.1', [host, `Connection: ${token}`, `Content-Length: ${smuggledBody.length}`, ...extra]) + smuggledBody + after]);
    out.push([`Connection: ${token}; chunked body holding a request`, head('POST /a HTTP/1.1', [host, `Connection: ${token}`, 'Transfer-Encoding: chunked', ...extra]) + chunked(smuggledBody) + after]);
    // Nothing after it on this connection: the next request through the pooled upstream connection (the
    // differential's canary, another user's in an attack) is the one a smuggled head would capture.
    out.push([`Connection: ${token}; body holding a request, then nothing`, head('POST /a HTTP/1.1', [host, `Connection: ${token}`, `Content-Length: ${smuggledBody.length}`]) + smuggledBody]);
    out.push([`Connection: ${token}; no body`, head('GET /a HTTP/1.1', [host, `Connection: ${token}`, ...extra]) + after]);
    out.push([`Connection: ${token} in a second Connection header`, head('POST /a HTTP/1.1', [host, 'Connection: keep-alive', `Connection: ${token}`, `Content-Length: ${smuggledBody.length}`]) + smuggledBody + after]);
  }
  return out;
}

function lengthCases(): [string, string][] {
  const out: [string, string][] = [];
  const lengths = ['5', '05', '00000000005', '+5', '-5', '5 ', '5,5', '5, 5', '5, 6', '0x5', '5.0', '', ' ', '1e1', '99999999999999999999', '0', '4', '6'];
  for (const value of lengths) out.push([`Content-Length: "${value}"`, head('POST /cl HTTP/1.1', [host, `Content-Length: ${value}`]) + 'hello' + after]);
  const pairs: [string, string][] = [['5', '5'], ['5', '6'], ['5', '05'], ['5', ''], ['0', '5']];
  for (const [x, y] of pairs) out.push([`two Content-Length: ${x} and ${y}`, head('POST /cl HTTP/1.1', [host, `Content-Length: ${x}`, `Content-Length: ${y}`]) + 'hello' + after]);
  const encodings = ['chunked', 'Chunked', 'CHUNKED', ' chunked', 'chunked ', 'chunked\t', '\tchunked', 'chunked, chunked', 'gzip, chunked', 'chunked, gzip', 'identity', 'identity, chunked', 'x', '', '"chunked"', 'chunked;q=1', 'chunk', 'chunked,', ',chunked'];
  for (const value of encodings) {
    out.push([`Transfer-Encoding: "${value}"`, head('POST /te HTTP/1.1', [host, `Transfer-Encoding: ${value}`]) + chunked('hello') + after]);
  }
  const teBody = chunked('hello');
  const clte = '0\r\n\r\n' + head('GET /smuggled HTTP/1.1', [host]);
  out.push(['CL.TE: both headers, chunked body', head('POST /both HTTP/1.1', [host, `Content-Length: ${teBody.length}`, 'Transfer-Encoding: chunked']) + teBody + after]);
  out.push(['TE.CL: both headers, CL shorter', head('POST /both HTTP/1.1', [host, 'Transfer-Encoding: chunked', 'Content-Length: 3']) + clte + after]);
  out.push(['CL.TE: smuggled after last chunk', head('POST /both HTTP/1.1', [host, `Content-Length: ${clte.length}`, 'Transfer-Encoding: chunked']) + clte + after]);
  out.push(['two Transfer-Encoding: chunked', head('POST /te HTTP/1.1', [host, 'Transfer-Encoding: chunked', 'Transfer-Encoding: chunked']) + teBody + after]);
  out.push(['two Transfer-Encoding: gzip then chunked', head('POST /te HTTP/1.1', [host, 'Transfer-Encoding: gzip', 'Transfer-Encoding: chunked']) + teBody + after]);
  const names = ['Transfer-Encoding : chunked', 'Transfer_Encoding: chunked', ' Transfer-Encoding: chunked', 'Transfer-Encoding:\tchunked', 'Transfer-Encoding:chunked', 'transfer-encoding: chunked', 'Transfer-Encoding: \x0bchunked', 'Transfer-Encoding: chunked\x00', 'Content-Length : 5', 'Content-Length:\t5', 'content-length:5'];
  for (const line of names) {
    out.push([`header line ${JSON.stringify(line)}`, head('POST /n HTTP/1.1', [host, line]) + (line.toLowerCase().includes('transfer') ? teBody : 'hello') + after]);
  }
  out.push(['Transfer-Encoding folded onto another header', head('POST /n HTTP/1.1', [host, 'X-A: 1', ' Transfer-Encoding: chunked']) + teBody + after]);
  out.push(['Transfer-Encoding value folded', head('POST /n HTTP/1.1', [host, 'Transfer-Encoding:', ' chunked']) + teBody + after]);
  return out;
}

function chunkCases(): [string, string][] {
  const te = head('POST /chunks HTTP/1.1', [host, 'Transfer-Encoding: chunked']);
  const bodies: [string, string][] = [
    ['hex lower', 'a\r\n0123456789\r\n0\r\n\r\n'],
    ['hex upper', 'A\r\n0123456789\r\n0\r\n\r\n'],
    ['leading zeros', '0005\r\nhello\r\n0\r\n\r\n'],
    ['size 0x5', '0x5\r\nhello\r\n0\r\n\r\n'],
    ['size -5', '-5\r\nhello\r\n0\r\n\r\n'],
    ['size with leading space', ' 5\r\nhello\r\n0\r\n\r\n'],
    ['size with trailing space', '5 \r\nhello\r\n0\r\n\r\n'],
    ['size with trailing tab', '5\t\r\nhello\r\n0\r\n\r\n'],
    ['empty extension', '5;\r\nhello\r\n0\r\n\r\n'],
    ['extension name', '5;a\r\nhello\r\n0\r\n\r\n'],
    ['extension value', '5;a=b\r\nhello\r\n0\r\n\r\n'],
    ['quoted extension', '5;a="b c"\r\nhello\r\n0\r\n\r\n'],
    ['extension after space', '5 ;a=b\r\nhello\r\n0\r\n\r\n'],
    ['two extensions', '5;a=b;c\r\nhello\r\n0\r\n\r\n'],
    ['control character in extension', '5;\x01\r\nhello\r\n0\r\n\r\n'],
    ['DEL in extension', '5;a=\x7f\r\nhello\r\n0\r\n\r\n'],
    ['bare CR in extension', '5;a\rb\r\nhello\r\n0\r\n\r\n'],
    ['LF in extension', '5;a\nb\r\nhello\r\n0\r\n\r\n'],
    ['quoted CRLF in extension', '5;a="\r\n0\r\n\r\n"\r\nhello\r\n0\r\n\r\n'],
    ['size overflow 16 digits', 'ffffffffffffffff\r\nhello\r\n0\r\n\r\n'],
    ['size 14 digits', '10000000000000\r\nhello\r\n0\r\n\r\n'],
    ['size 13 digits, short data', '0000000000005\r\nhello\r\n0\r\n\r\n'],
    ['non-hex size', 'g\r\nhello\r\n0\r\n\r\n'],
    ['empty size line', '\r\nhello\r\n0\r\n\r\n'],
    ['LF after size', '5\nhello\r\n0\r\n\r\n'],
    ['CR alone after size', '5\rhello\r\n0\r\n\r\n'],
    ['data longer than size', '3\r\nhello\r\n0\r\n\r\n'],
    ['data shorter than size', '7\r\nhello\r\n0\r\n\r\n'],
    ['no CRLF after data', '5\r\nhello0\r\n\r\n'],
    ['LF after data', '5\r\nhello\n0\r\n\r\n'],
    ['CR after data', '5\r\nhello\r0\r\n\r\n'],
    ['several chunks', '1\r\nh\r\n2\r\nel\r\n2\r\nlo\r\n0\r\n\r\n'],
    ['zero-size chunk in the middle', '2\r\nhe\r\n0\r\n\r\n3\r\nllo\r\n0\r\n\r\n'],
    ['last chunk 00', '5\r\nhello\r\n00\r\n\r\n'],
    ['last chunk 000000', '5\r\nhello\r\n000000\r\n\r\n'],
    ['last chunk with extension', '5\r\nhello\r\n0;done\r\n\r\n'],
    ['one trailer', '5\r\nhello\r\n0\r\nX-T: 1\r\n\r\n'],
    ['two trailers', '5\r\nhello\r\n0\r\nX-T: 1\r\nX-U: 2\r\n\r\n'],
    ['Content-Length trailer', '5\r\nhello\r\n0\r\nContent-Length: 100\r\n\r\n'],
    ['Transfer-Encoding trailer', '5\r\nhello\r\n0\r\nTransfer-Encoding: chunked\r\n\r\n'],
    ['trailer without colon', '5\r\nhello\r\n0\r\nbroken\r\n\r\n'],
    ['trailer folded', '5\r\nhello\r\n0\r\nX-T: 1\r\n 2\r\n\r\n'],
    ['trailer with LF ending', '5\r\nhello\r\n0\r\nX-T: 1\n\r\n'],
    ['LF-only end', '5\r\nhello\r\n0\r\n\n'],
    ['request in a trailer', '5\r\nhello\r\n0\r\n' + head('GET /smuggled HTTP/1.1', [host]) + '\r\n'],
    ['smuggled request after a short chunk', '1\r\nhello\r\n0\r\n\r\n'],
    ['empty body', '0\r\n\r\n'],
  ];
  return bodies.map(([name, body]) => [`chunk: ${name}`, te + body + after]);
}

function pipelineCases(): [string, string][] {
  const get = (path: string, extra: string[] = []) => head(`GET ${path} HTTP/1.1`, [host, ...extra]);
  const post = (path: string, body: string) => head(`POST ${path} HTTP/1.1`, [host, `Content-Length: ${body.length}`]) + body;
  const tePost = (path: string, body: string) => head(`POST ${path} HTTP/1.1`, [host, 'Transfer-Encoding: chunked']) + chunked(body);
  return [
    ['three GETs', get('/1') + get('/2') + get('/3')],
    ['ten GETs', Array.from({ length: 10 }, (_, i) => get(`/${i}`)).join('')],
    ['POST then GET', post('/p', 'hello') + get('/g')],
    ['chunked POST, CL POST, GET', tePost('/c', 'abc') + post('/l', 'defg') + get('/g')],
    ['HEAD then GET', head('HEAD /h HTTP/1.1', [host]) + get('/g')],
    ['GET with a body', head('GET /gb HTTP/1.1', [host, 'Content-Length: 5']) + 'hello' + get('/g')],
    ['DELETE with a chunked body', head('DELETE /d HTTP/1.1', [host, 'Transfer-Encoding: chunked']) + chunked('x') + get('/g')],
    ['empty CL body', post('/e', '') + get('/g')],
    ['one leading CRLF', '\r\n' + get('/1')],
    ['two leading CRLFs', '\r\n\r\n' + get('/1')],
    ['three leading CRLFs', '\r\n\r\n\r\n' + get('/1')],
    ['CRLF between requests', get('/1') + '\r\n' + get('/2')],
    ['close in the middle', get('/1') + get('/2', ['Connection: close']) + get('/3')],
    ['body holding a whole request', post('/p', get('/inner')) + get('/g')],
    ['a malformed second request', get('/1') + 'GET /2 HTTP/1.1\r\nHost app.test\r\n\r\n' + get('/3')],
    ['POST smuggling via a short CL', head('POST /p HTTP/1.1', [host, 'Content-Length: 0']) + get('/inner') + get('/g')],
    ['other host in between', get('/1') + head('GET /2 HTTP/1.1', ['Host: other.test']) + get('/3')],
    ['other host with a body', get('/1') + head('POST /2 HTTP/1.1', ['Host: other.test', 'Content-Length: 5']) + 'hello' + get('/3')],
  ];
}

function expectCases(): [string, string][] {
  return [
    ['Expect: 100-continue with a CL body', head('POST /e HTTP/1.1', [host, 'Expect: 100-continue', 'Content-Length: 5']) + 'hello' + after],
    ['Expect: 100-continue with a chunked body', head('POST /e HTTP/1.1', [host, 'Expect: 100-continue', 'Transfer-Encoding: chunked']) + chunked('hello') + after],
    ['Expect: 100-continue without a body', head('GET /e HTTP/1.1', [host, 'Expect: 100-continue']) + after],
    ['Expect: 100-Continue', head('POST /e HTTP/1.1', [host, 'Expect: 100-Continue', 'Content-Length: 5']) + 'hello' + after],
    ['Expect: something else', head('POST /e HTTP/1.1', [host, 'Expect: 200-ok', 'Content-Length: 5']) + 'hello' + after],
    ['Expect and Connection: expect', head('POST /e HTTP/1.1', [host, 'Connection: expect, content-length', 'Expect: 100-continue', 'Content-Length: 5']) + 'hello' + after],
  ];
}

function http10Cases(): [string, string][] {
  return [
    ['1.0 GET without Host', 'GET /old HTTP/1.0\r\n\r\n'],
    ['1.0 GET with Host', head('GET /old HTTP/1.0', [host]) + after],
    ['1.0 keep-alive then GET', head('GET /old HTTP/1.0', [host, 'Connection: keep-alive']) + after],
    ['1.0 POST with CL', head('POST /old HTTP/1.0', [host, 'Content-Length: 5']) + 'hello' + after],
    ['1.0 POST chunked', head('POST /old HTTP/1.0', [host, 'Transfer-Encoding: chunked']) + chunked('hello') + after],
    ['1.0 POST with Connection: content-length', head('POST /old HTTP/1.0', [host, 'Connection: keep-alive, content-length', 'Content-Length: 5']) + 'hello' + after],
    ['1.0 absolute-form', head(`GET http://${HOST}/abs HTTP/1.0`, []) + after],
  ];
}

function upgradeCases(): [string, string][] {
  const ws = ['Upgrade: websocket', 'Sec-WebSocket-Version: 13', 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ=='];
  return [
    ['websocket upgrade', head('GET /ws HTTP/1.1', [host, 'Connection: Upgrade', ...ws]) + 'tunnel bytes'],
    ['Upgrade without the Connection token', head('GET /ws HTTP/1.1', [host, ...ws]) + after],
    ['Connection: keep-alive, Upgrade', head('GET /ws HTTP/1.1', [host, 'Connection: keep-alive, Upgrade', ...ws])],
    ['Connection: upgrade without Upgrade', head('GET /ws HTTP/1.1', [host, 'Connection: upgrade']) + after],
    ['h2c upgrade', head('GET /h2c HTTP/1.1', [host, 'Connection: Upgrade, HTTP2-Settings', 'Upgrade: h2c', 'HTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA'])],
    ['upgrade naming Content-Length', head('GET /ws HTTP/1.1', [host, 'Connection: Upgrade, Content-Length', ...ws])],
  ];
}

function headCases(): [string, string][] {
  const big = 'X-Big: ' + 'a'.repeat(33 * 1024);
  return [
    ['bare LF head', `GET /lf HTTP/1.1\nHost: ${HOST}\n\n`],
    ['bare LF in one header line', `GET /lf HTTP/1.1\r\nHost: ${HOST}\nX-A: 1\r\n\r\n`],
    ['bare CR in a header value', `GET /cr HTTP/1.1\r\nHost: ${HOST}\r\nX-A: 1\r2\r\n\r\n`],
    ['NUL in a header value', `GET /nul HTTP/1.1\r\nHost: ${HOST}\r\nX-A: 1\x002\r\n\r\n`],
    ['DEL in a header value', `GET /del HTTP/1.1\r\nHost: ${HOST}\r\nX-A: 1\x7f2\r\n\r\n`],
    ['obs-text in a header value', `GET /obs HTTP/1.1\r\nHost: ${HOST}\r\nX-A: caf\xe9\r\n\r\n` + after],
    ['space in a header name', `GET /sp HTTP/1.1\r\nHost: ${HOST}\r\nX A: 1\r\n\r\n`],
    ['empty header name', `GET /sp HTTP/1.1\r\nHost: ${HOST}\r\n: 1\r\n\r\n`],
    ['head over 32 KB', head('GET /big HTTP/1.1', [host, big])],
    ['HTTP/1.2', head('GET /v HTTP/1.2', [host])],
    ['HTTP/2.0', head('GET /v HTTP/2.0', [host])],
    ['HTTP/0.9 style', 'GET /v\r\n\r\n'],
    ['lowercase version', head('GET /v http/1.1', [host])],
    ['trailing space in request line', head('GET /v HTTP/1.1 ', [host])],
    ['two spaces in request line', head('GET  /v HTTP/1.1', [host])],
    ['tab in request line', head('GET\t/v HTTP/1.1', [host])],
    ['absolute-form, same host', head(`GET http://${HOST}/abs?q=1 HTTP/1.1`, ['Host: other.test']) + after],
    ['absolute-form, other host', head('GET http://other.test/abs HTTP/1.1', [host])],
    ['absolute-form with userinfo', head(`GET http://user@${HOST}/abs HTTP/1.1`, [host])],
    ['CONNECT', head(`CONNECT ${HOST}:443 HTTP/1.1`, [host])],
    ['OPTIONS *', head('OPTIONS * HTTP/1.1', [host]) + after],
    ['GET *', head('GET * HTTP/1.1', [host])],
    ['fragment in target', head('GET /a#frag HTTP/1.1', [host])],
    ['dot segments above root', head('GET /../etc/passwd HTTP/1.1', [host])],
    ['encoded dot segments above root', head('GET /a/%2e%2e/%2E%2E/etc HTTP/1.1', [host])],
    ['dot segments inside root', head('GET /a/b/../c HTTP/1.1', [host]) + after],
    ['lowercase method', head('get /m HTTP/1.1', [host]) + after],
    ['method with a bracket', head('GE(T /m HTTP/1.1', [host])],
    ['unknown method', head('PURGE /m HTTP/1.1', [host]) + after],
    ['two Host headers', head('GET /h HTTP/1.1', [host, host])],
    ['Host with port', head('GET /h HTTP/1.1', [`Host: ${HOST}:8080`]) + after],
    ['Host uppercase', head('GET /h HTTP/1.1', [`Host: ${HOST.toUpperCase()}`]) + after],
    ['empty Host', head('GET /h HTTP/1.1', ['Host:'])],
    ['Host with a slash', head('GET /h HTTP/1.1', [`Host: ${HOST}/x`])],
    ['Host with userinfo', head('GET /h HTTP/1.1', [`Host: user@${HOST}`])],
    ['no Host in 1.1', head('GET /h HTTP/1.1', ['X-A: 1'])],
    ['X-Forwarded-For from the client', head('GET /x HTTP/1.1', [host, 'X-Forwarded-For: 6.6.6.6', 'Forwarded: for=6.6.6.6']) + after],
    ['hop-by-hop headers from the client', head('GET /x HTTP/1.1', [host, 'Keep-Alive: timeout=5', 'Proxy-Connection: keep-alive', 'TE: trailers', 'Trailer: X-T', 'Proxy-Authorization: Basic eDp4']) + after],
  ];
}

/** Split points that land inside heads, chunk lines and bodies: a third, two thirds, and one byte after the first head. */
function splits(bytes: Buffer): Buffer[] {
  const end = bytes.indexOf('\r\n\r\n');
  const points = [...new Set([Math.floor(bytes.length / 3), Math.floor((2 * bytes.length) / 3), end === -1 ? 0 : end + 5])]
    .filter((p) => p > 0 && p < bytes.length)
    .sort((x, y) => x - y);
  const out: Buffer[] = [];
  let last = 0;
  for (const p of points) {
    out.push(bytes.subarray(last, p));
    last = p;
  }
  out.push(bytes.subarray(last));
  return out;
}

const bytewise = (bytes: Buffer): Buffer[] => Array.from(bytes, (byte) => Buffer.from([byte]));

export function framingCorpus(): FramingCase[] {
  const families: [string, [string, string][]][] = [
    ['connection', connectionCases()],
    ['length', lengthCases()],
    ['chunk', chunkCases()],
    ['pipeline', pipelineCases()],
    ['expect', expectCases()],
    ['http/1.0', http10Cases()],
    ['upgrade', upgradeCases()],
    ['head', headCases()],
  ];
  const out: FramingCase[] = [];
  for (const [family, cases] of families) {
    cases.forEach(([name, text], index) => {
      const bytes = b(text);
      out.push({ family, name, deliveries: [bytes] });
      if (bytes.length > 2) out.push({ family, name: `${name} (split)`, deliveries: splits(bytes) });
      // Byte by byte costs a millisecond per byte: a sample of the short ones.
      if (index % 4 === 0 && bytes.length <= 400) out.push({ family, name: `${name} (byte by byte)`, deliveries: bytewise(bytes) });
    });
  }
  return out;
}
