import { climbsAboveRoot, normalizeHost, validRequestId, type HeadError, type RequestHead } from '../http1/request-head.ts';
import { BAD_VALUE_CHAR, DIGITS, METHOD, TARGET, TOKEN } from '../http1/tokens.ts';

/**
 * Fields that describe one HTTP/1 connection: RFC 9113 8.2.2 makes an HTTP/2 request carrying one
 * malformed. nghttp2 refuses them before we see the stream; this is the second line, not the only one.
 */
const CONNECTION_SPECIFIC = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'http2-settings']);

/** RFC 9113 6.5.2 counts 32 octets of overhead per field when sizing a header list. */
const FIELD_OVERHEAD = 32;

const UPPERCASE = /[A-Z]/;

const refuse = (status: number, reason: string): HeadError => ({ kind: 'error', status, reason });

/**
 * An HTTP/2 request's header block (the flat `[name, value, ...]` list node:http2 gives, values as latin1
 * strings) read into the same `RequestHead` the HTTP/1 parser makes, with the same rules: methods, targets,
 * Host (`:authority`, else `host`: lowercased, port stripped, by `normalizeHost`), one Content-Length,
 * Expect only `100-continue`. So the forwarded head is built by `http1/forward-head.ts` for both paths.
 *
 * The body's framing upstream: Content-Length when the client gave one, else chunked when a body may
 * follow (`endStream` false): a synthetic `transfer-encoding: chunked` entry makes `buildRequestHead`
 * write berth's own framing line, as it does for an HTTP/1 chunked request. Cookie fields, which HTTP/2
 * lets a client split, are joined with `; ` (RFC 9113 8.2.3) where the first one stood.
 */
export function readRequest(raw: readonly string[], endStream: boolean, maxHeadSize: number): RequestHead | HeadError {
  let method: string | null = null;
  let scheme: string | null = null;
  let path: string | null = null;
  let authority: string | null = null;
  let extendedConnect = false;
  let regularSeen = false;
  const names: string[] = [];
  const values: string[] = [];
  let hostHeader: string | null = null;
  let contentLength = -1;
  let expect: string | null = null;
  let cookieAt = -1;
  let size = 0;
  let requestIds = 0;
  let requestId: string | null = null;

  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i];
    const value = raw[i + 1];
    size += name.length + value.length + FIELD_OVERHEAD;
    if (size > maxHeadSize) return refuse(431, 'request header list too large');
    if (name.charCodeAt(0) === 58 /* : */) {
      if (regularSeen) return refuse(400, 'pseudo-header after a regular header');
      let slot: string | null;
      switch (name) {
        case ':method':
          slot = method;
          method = value;
          break;
        case ':scheme':
          slot = scheme;
          scheme = value;
          break;
        case ':path':
          slot = path;
          path = value;
          break;
        case ':authority':
          slot = authority;
          authority = value;
          break;
        case ':protocol':
          extendedConnect = true;
          slot = null;
          break;
        default:
          return refuse(400, `unknown pseudo-header ${name}`);
      }
      if (slot !== null) return refuse(400, `repeated ${name}`);
      continue;
    }
    regularSeen = true;
    if (!TOKEN.test(name) || UPPERCASE.test(name)) return refuse(400, 'invalid header name');
    if (BAD_VALUE_CHAR.test(value)) return refuse(400, 'invalid character in header value');
    if (CONNECTION_SPECIFIC.has(name)) return refuse(400, `connection-specific header ${name} in an HTTP/2 request`);
    switch (name) {
      case 'te':
        // Only `trailers` may be said (RFC 9113 8.2.2); TE is hop-by-hop, so it goes no further anyway.
        if (value.toLowerCase() !== 'trailers') return refuse(400, 'TE other than trailers');
        continue;
      case 'host':
        if (hostHeader !== null) return refuse(400, 'more than one Host header');
        hostHeader = value;
        continue; // the forwarded Host is written from the authority
      case 'content-length':
        if (!DIGITS.test(value)) return refuse(400, 'invalid Content-Length');
        if (contentLength !== -1) return refuse(400, 'repeated Content-Length');
        contentLength = Number(value);
        break;
      case 'expect':
        expect = expect === null ? value : `${expect}, ${value}`;
        break;
      case 'x-request-id':
        requestIds++;
        requestId = value;
        break;
      case 'cookie':
        if (cookieAt !== -1) {
          values[cookieAt] += `; ${value}`;
          continue;
        }
        cookieAt = names.length;
        break;
    }
    names.push(name);
    values.push(value);
  }

  if (method === null) return refuse(400, 'missing :method');
  if (!METHOD.test(method)) return refuse(400, 'invalid method');
  // No tunnels over HTTP/2: WebSocket clients fall back to HTTP/1.1, which berth upgrades.
  if (method === 'CONNECT' || extendedConnect) return refuse(405, 'CONNECT is not supported over HTTP/2 (WebSockets use HTTP/1.1)');
  if (scheme !== 'https' && scheme !== 'http') return refuse(400, scheme === null ? 'missing :scheme' : 'unsupported :scheme');
  if (path === null || path === '') return refuse(400, 'missing :path');
  if (!TARGET.test(path)) return refuse(400, 'invalid request target');
  if (path === '*') {
    if (method !== 'OPTIONS') return refuse(400, 'invalid request target');
  } else {
    if (path.charCodeAt(0) !== 47 /* / */) return refuse(400, 'invalid request target');
    if (path.indexOf('#') !== -1) return refuse(400, 'fragment in request target');
    if (climbsAboveRoot(path)) return refuse(400, 'request target climbs above /');
  }
  // Expectations: the HTTP/1 rule (100-continue is the only one there is).
  if (expect !== null && expect.toLowerCase() !== '100-continue') return refuse(417, 'unsupported expectation');

  const rawHost = authority ?? hostHeader;
  if (rawHost === null) return refuse(400, 'missing :authority');
  const host = normalizeHost(rawHost);
  if (host === null) return refuse(400, authority !== null ? 'invalid :authority' : 'invalid Host header');
  // RFC 9113 8.3.1: a Host naming another origin than :authority makes the request malformed.
  if (authority !== null && hostHeader !== null && normalizeHost(hostHeader) !== host) return refuse(400, 'Host differs from :authority');

  if (endStream && contentLength > 0) return refuse(400, 'Content-Length announces a body the request does not have');
  const chunked = !endStream && contentLength === -1;
  if (chunked) {
    names.push('transfer-encoding');
    values.push('chunked');
  }
  return {
    method,
    target: path,
    minor: 1,
    names,
    values,
    host,
    rawHost,
    contentLength,
    chunked,
    keepAlive: true,
    upgrade: null,
    connection: [],
    requestId: requestIds === 1 && validRequestId(requestId!) ? requestId : null,
    size,
  };
}

/** The first value of a header the request kept (names are lowercase in HTTP/2). */
export function requestHeader(req: RequestHead, name: string): string | undefined {
  const i = req.names.indexOf(name);
  return i === -1 ? undefined : req.values[i];
}
