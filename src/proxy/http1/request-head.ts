import { BAD_VALUE_CHAR, DIGITS, METHOD, TARGET, TOKEN, listTokens, trimOws } from './tokens.ts';

export interface RequestHead {
  method: string;
  /** origin-form (`/path?q`) or `*`; absolute-form is rewritten to origin-form. */
  target: string;
  /** 1 for HTTP/1.1, 0 for HTTP/1.0. */
  minor: number;
  /** Header names and values as received, in order. */
  names: string[];
  values: string[];
  /** Host without port, lowercased; null when absent. */
  host: string | null;
  /** The Host header as sent (with port), for X-Forwarded-Host. */
  rawHost: string | null;
  /** -1 when the request has no Content-Length. */
  contentLength: number;
  chunked: boolean;
  keepAlive: boolean;
  /** Lowercased Upgrade protocol when the client asked to switch (Connection: upgrade). */
  upgrade: string | null;
  /** Tokens listed in Connection: names of extra hop-by-hop headers. */
  connection: string[];
  /** The client's X-Request-ID when it sent exactly one valid one (`validRequestId`), else null: berth makes one. */
  requestId: string | null;
  /** Bytes taken by the head, including leading blank lines and the final CRLFCRLF. */
  size: number;
}

export interface HeadError {
  kind: 'error';
  status: number;
  reason: string;
}

/** Heads always carry header lists; errors never do. */
export const isHeadError = <T extends object>(value: T | HeadError): value is HeadError => 'kind' in value;

const CRLFCRLF = Buffer.from('\r\n\r\n');

/**
 * Parses one request head strictly (RFC 9112): CRLF line endings only, no obs-fold, no whitespace
 * before colons, a single valid Content-Length, Transfer-Encoding only as `chunked`, never both.
 * Anything ambiguous is refused, because a proxy that guesses is a proxy that can be smuggled through.
 * Returns null when more bytes are needed.
 */
export function parseRequestHead(buf: Buffer, maxSize: number): RequestHead | HeadError | null {
  let start = 0;
  // RFC 9112 2.2: a server SHOULD ignore at least one empty line before the request-line.
  while (start + 1 < buf.length && start < 4 && buf[start] === 13 && buf[start + 1] === 10) start += 2;
  const end = buf.indexOf(CRLFCRLF, start);
  if (end === -1) {
    if (buf.length > maxSize) return { kind: 'error', status: 431, reason: 'request head too large' };
    // A head ended by bare LFs would otherwise wait for a CRLFCRLF that never comes.
    if (buf.indexOf('\n\n', start) !== -1) return { kind: 'error', status: 400, reason: 'bare LF line endings' };
    return null;
  }
  if (end + 4 > maxSize) return { kind: 'error', status: 431, reason: 'request head too large' };

  const lines = buf.toString('latin1', start, end).split('\r\n');
  const requestLine = lines[0];
  const sp1 = requestLine.indexOf(' ');
  const sp2 = requestLine.indexOf(' ', sp1 + 1);
  if (sp1 <= 0 || sp2 <= sp1 + 1 || requestLine.indexOf(' ', sp2 + 1) !== -1) {
    return { kind: 'error', status: 400, reason: 'malformed request line' };
  }
  const method = requestLine.slice(0, sp1);
  let target = requestLine.slice(sp1 + 1, sp2);
  const version = requestLine.slice(sp2 + 1);
  if (!METHOD.test(method)) return { kind: 'error', status: 400, reason: 'invalid method' };
  if (!TARGET.test(target)) return { kind: 'error', status: 400, reason: 'invalid request target' };
  let minor: number;
  if (version === 'HTTP/1.1') minor = 1;
  else if (version === 'HTTP/1.0') minor = 0;
  else if (/^HTTP\/\d\.\d$/.test(version)) return { kind: 'error', status: 505, reason: 'HTTP version not supported' };
  else return { kind: 'error', status: 400, reason: 'malformed request line' };

  const names: string[] = [];
  const values: string[] = [];
  let host: string | null = null;
  let rawHost: string | null = null;
  let hosts = 0;
  let contentLength = -1;
  let transferEncoding: string | null = null;
  let connection: string[] = [];
  let upgradeValue: string | null = null;
  let expect: string | null = null;
  let requestIds = 0;
  let requestId: string | null = null;

  for (let i = 1; i < lines.length; i++) {
    const line = lines[i];
    const first = line.charCodeAt(0);
    if (first === 32 || first === 9) return { kind: 'error', status: 400, reason: 'obsolete header line folding' };
    const colon = line.indexOf(':');
    if (colon <= 0) return { kind: 'error', status: 400, reason: 'malformed header line' };
    const name = line.slice(0, colon);
    if (!TOKEN.test(name)) return { kind: 'error', status: 400, reason: 'invalid header name' };
    const value = trimOws(line.slice(colon + 1));
    if (BAD_VALUE_CHAR.test(value)) return { kind: 'error', status: 400, reason: 'invalid character in header value' };
    names.push(name);
    values.push(value);
    switch (name.length) {
      case 4:
        if (name.toLowerCase() === 'host') {
          hosts++;
          rawHost = value;
        }
        break;
      case 6:
        if (name.toLowerCase() === 'expect') expect = expect === null ? value : `${expect}, ${value}`;
        break;
      case 7:
        if (name.toLowerCase() === 'upgrade') upgradeValue = value;
        break;
      case 10:
        if (name.toLowerCase() === 'connection') connection = connection.concat(listTokens(value));
        break;
      case 12:
        if (name.toLowerCase() === 'x-request-id') {
          requestIds++;
          requestId = value;
        }
        break;
      case 14:
        if (name.toLowerCase() === 'content-length') {
          if (!DIGITS.test(value)) return { kind: 'error', status: 400, reason: 'invalid Content-Length' };
          // Even an identical repeat is refused, as nginx and llhttp do: a parser that keeps the other one is not far.
          if (contentLength !== -1) return { kind: 'error', status: 400, reason: 'repeated Content-Length' };
          contentLength = Number(value);
        }
        break;
      case 17:
        if (name.toLowerCase() === 'transfer-encoding') {
          if (transferEncoding !== null) return { kind: 'error', status: 400, reason: 'repeated Transfer-Encoding' };
          transferEncoding = value.toLowerCase();
        }
        break;
    }
  }

  if (transferEncoding !== null) {
    if (transferEncoding !== 'chunked') return { kind: 'error', status: 501, reason: 'unsupported Transfer-Encoding' };
    if (contentLength !== -1) return { kind: 'error', status: 400, reason: 'both Content-Length and Transfer-Encoding' };
    if (minor === 0) return { kind: 'error', status: 400, reason: 'Transfer-Encoding in an HTTP/1.0 request' };
  }
  if (hosts > 1) return { kind: 'error', status: 400, reason: 'more than one Host header' };
  // 100-continue is the only expectation there is (RFC 9110 10.1.1); app servers differ on what they do
  // with the body of a request whose expectation they refuse, so berth refuses it before any app sees it.
  if (expect !== null && expect.toLowerCase() !== '100-continue') return { kind: 'error', status: 417, reason: 'unsupported expectation' };

  if (target.charCodeAt(0) !== 47 /* / */) {
    if (target === '*') {
      if (method !== 'OPTIONS') return { kind: 'error', status: 400, reason: 'invalid request target' };
    } else {
      const absolute = /^https?:\/\/([^/?#]+)([^#]*)$/i.exec(target);
      if (!absolute) return { kind: 'error', status: method === 'CONNECT' ? 405 : 400, reason: 'unsupported request target' };
      rawHost = absolute[1];
      target = absolute[2] || '/';
      if (target[0] !== '/') target = '/' + target;
    }
  }
  if (target !== '*') {
    // A fragment is the client's own business (RFC 9112 3.2): one in a request-target is not from a browser.
    if (target.indexOf('#') !== -1) return { kind: 'error', status: 400, reason: 'fragment in request target' };
    if (climbsAboveRoot(target)) return { kind: 'error', status: 400, reason: 'request target climbs above /' };
  }
  if (rawHost === null) {
    if (minor === 1) return { kind: 'error', status: 400, reason: 'missing Host header' };
  } else {
    host = normalizeHost(rawHost);
    if (host === null) return { kind: 'error', status: 400, reason: 'invalid Host header' };
  }

  const keepAlive = minor === 1 ? !connection.includes('close') : connection.includes('keep-alive');
  const upgrade = upgradeValue !== null && connection.includes('upgrade') ? upgradeValue.toLowerCase() : null;
  return {
    method,
    target,
    minor,
    names,
    values,
    host,
    rawHost,
    contentLength,
    chunked: transferEncoding !== null,
    keepAlive,
    upgrade,
    connection,
    requestId: requestIds === 1 && validRequestId(requestId!) ? requestId : null,
    size: end + 4,
  };
}

const REQUEST_ID = /^[\x21-\x7e]{1,200}$/;

/** An X-Request-ID berth passes on: 1 to 200 visible ASCII characters (no spaces, nothing a log could be split by). */
export const validRequestId = (value: string): boolean => REQUEST_ID.test(value);

/** `Hello.Example.com.:8080` -> `hello.example.com`; `[::1]:80` -> `[::1]`; null when it is not a host. */
export function normalizeHost(raw: string): string | null {
  let host = raw.toLowerCase();
  if (host.startsWith('[')) {
    const close = host.indexOf(']');
    if (close === -1) return null;
    const rest = host.slice(close + 1);
    if (rest && !/^:\d{1,5}$/.test(rest)) return null;
    return host.slice(0, close + 1);
  }
  const colon = host.indexOf(':');
  if (colon !== -1) {
    if (!/^\d{1,5}$/.test(host.slice(colon + 1))) return null;
    host = host.slice(0, colon);
  }
  if (host.endsWith('.')) host = host.slice(0, -1);
  if (!host || !/^[a-z0-9_.-]+$/.test(host)) return null;
  return host;
}

/**
 * True when the path's `..` segments climb above `/`, read as nginx reads them: percent-escapes decoded
 * (`%2e%2e`, `%2f`), repeated slashes merged. nginx refuses such a request with 400, and so does berth: an
 * app that maps paths to files must never be asked for `/../etc/passwd`. Dot segments that stay inside
 * the root pass through unchanged, as with nginx.
 */
export function climbsAboveRoot(target: string): boolean {
  const query = target.indexOf('?');
  let path = query === -1 ? target : target.slice(0, query);
  const escaped = path.indexOf('%') !== -1;
  if (!escaped && path.indexOf('..') === -1) return false;
  if (escaped) path = path.replace(/%(2e|2f)/gi, (m) => (m[2] === 'e' || m[2] === 'E' ? '.' : '/'));
  let depth = 0;
  for (const segment of path.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') {
      if (depth === 0) return true;
      depth--;
    } else depth++;
  }
  return false;
}
