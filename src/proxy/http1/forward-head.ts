import type { RequestHead } from './request-head.ts';
import type { ResponseHead } from './response-head.ts';
import { HOP_BY_HOP } from './tokens.ts';

/**
 * Headers the edge proxy owns: a client cannot choose what the app believes about its origin. The client's
 * X-Request-ID is dropped too: berth writes the one it logs (the client's own when it was valid).
 */
const EDGE_OWNED = new Set(['x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host', 'forwarded', 'x-request-id']);

const mayNeedDropping = (name: string): boolean => {
  // Every header we drop starts with one of these letters; checking first spares most toLowerCase calls.
  switch (name.charCodeAt(0) | 0x20) {
    case 99: // c
    case 107: // k
    case 112: // p
    case 116: // t
    case 117: // u
    case 120: // x
    case 102: // f
      return true;
  }
  return false;
};

/**
 * Headers a `Connection` token can never remove: the message's framing and its Host. If `Connection:
 * content-length` could drop Content-Length from the forwarded head while berth still framed the body by
 * it, the app would read that body as a request of its own (request smuggling).
 */
const FRAMING = new Set(['content-length', 'transfer-encoding', 'host']);

/**
 * The head sent upstream: origin-form, HTTP/1.1, hop-by-hop headers removed, X-Forwarded-* set by us.
 * The framing is always the one berth parsed, written by berth: one `Content-Length` with the length
 * berth counts, or `Transfer-Encoding: chunked`, never the client's spelling (leading zeros, repeats, case).
 * `requestId`: the X-Request-ID the app gets (and the access log names).
 */
export function buildRequestHead(req: RequestHead, clientIp: string, proto: string, requestId: string): string {
  let out = `${req.method} ${req.target} HTTP/1.1\r\n`;
  let sawHost = false;
  let sawFraming = false;
  // Connection may name extra hop-by-hop headers; the common tokens name none.
  const named = req.connection.length === 0 ? req.connection : req.connection.filter((t) => t !== 'close' && t !== 'keep-alive' && t !== 'upgrade' && !FRAMING.has(t));
  const connectionNamed = named.length > 0;
  for (let i = 0; i < req.names.length; i++) {
    const name = req.names[i];
    if (mayNeedDropping(name) || connectionNamed) {
      const lower = name.toLowerCase();
      if (EDGE_OWNED.has(lower)) continue;
      if (HOP_BY_HOP.has(lower) && !(lower === 'upgrade' && req.upgrade)) continue;
      if (connectionNamed && named.includes(lower)) continue;
      if (lower === 'content-length' || lower === 'transfer-encoding') {
        if (!sawFraming) out += framingHeader(req);
        sawFraming = true;
        continue;
      }
    }
    if (name.length === 4 && name.toLowerCase() === 'host') {
      if (sawHost) continue;
      sawHost = true;
      // absolute-form wins over the Host header (RFC 9112 3.2.2)
      out += `Host: ${req.rawHost}\r\n`;
      continue;
    }
    out += `${name}: ${req.values[i]}\r\n`;
  }
  if (!sawHost && req.rawHost) out += `Host: ${req.rawHost}\r\n`;
  if (req.upgrade) out += 'Connection: Upgrade\r\n';
  out += `X-Forwarded-For: ${clientIp}\r\nX-Forwarded-Proto: ${proto}\r\nX-Request-ID: ${requestId}\r\n`;
  if (req.rawHost) out += `X-Forwarded-Host: ${req.rawHost}\r\n`;
  return out + '\r\n';
}

function framingHeader(req: RequestHead): string {
  if (req.chunked) return 'Transfer-Encoding: chunked\r\n';
  return `Content-Length: ${req.contentLength}\r\n`;
}

/**
 * The head sent to the client when the upstream's cannot be passed through byte for byte. `hsts`: the
 * Strict-Transport-Security value berth sends over TLS for the app, replacing any the app sent.
 * `setCookie`: a canary split's cookie (proxy/split.ts), added after the app's own Set-Cookie fields,
 * which stay as they are.
 */
export function buildResponseHead(res: ResponseHead, options: { dropChunked: boolean; close: boolean; hsts?: string | null; setCookie?: string | null }): string {
  let out = `HTTP/1.1 ${res.status} ${res.reason}\r\n`;
  const hsts = options.hsts ?? null;
  for (let i = 0; i < res.names.length; i++) {
    const name = res.names[i];
    const lower = name.toLowerCase();
    if (HOP_BY_HOP.has(lower) || (res.connection.includes(lower) && !FRAMING.has(lower))) continue;
    if (options.dropChunked && lower === 'transfer-encoding') continue;
    if (hsts !== null && lower === 'strict-transport-security') continue;
    out += `${name}: ${res.values[i]}\r\n`;
  }
  if (hsts !== null) out += `Strict-Transport-Security: ${hsts}\r\n`;
  if (options.setCookie != null) out += `Set-Cookie: ${options.setCookie}\r\n`;
  if (options.close) out += 'Connection: close\r\n';
  return out + '\r\n';
}
