import { parseResponseHead, type ResponseHead } from '../http1/response-head.ts';
import { isHeadError } from '../http1/request-head.ts';
import { HOP_BY_HOP } from '../http1/tokens.ts';
import { renderError, type ProxyErrorKind } from '../pages.ts';

/**
 * Upstream fields that never reach an HTTP/2 client: the hop-by-hop ones (as on the HTTP/1 path), the
 * HTTP/1 framing (HTTP/2 frames the body itself; Content-Length is written once, from the parsed value),
 * and the fields RFC 9113 8.2.2 forbids.
 */
const NOT_FORWARDED = new Set([...HOP_BY_HOP, 'transfer-encoding', 'content-length', 'http2-settings']);

/**
 * An upstream response head as an HTTP/2 header list (`[':status', '200', name, value, ...]`, names
 * lowercased, values the latin1 strings the parser read, so the bytes go out as they came). Fields the
 * upstream's `Connection` names are dropped too. `hsts`: the app's Strict-Transport-Security value, which
 * replaces any the app sent (one value, the operator's). `setCookie`: a canary split's cookie
 * (proxy/split.ts), added after the app's own `set-cookie` fields, which stay as they are.
 */
export function responseHeaders(res: ResponseHead, hsts: string | null, setCookie: string | null = null): string[] {
  const out = [':status', String(res.status)];
  for (let i = 0; i < res.names.length; i++) {
    const lower = res.names[i].toLowerCase();
    if (NOT_FORWARDED.has(lower)) continue;
    if (res.connection.length > 0 && res.connection.includes(lower)) continue;
    if (hsts !== null && lower === 'strict-transport-security') continue;
    out.push(lower, res.values[i]);
  }
  if (res.contentLength >= 0) out.push('content-length', String(res.contentLength));
  if (hsts !== null) out.push('strict-transport-security', hsts);
  if (setCookie !== null) out.push('set-cookie', setCookie);
  return out;
}

/**
 * An interim response (103 Early Hints) for `additionalHeaders`, which takes an object: repeated fields
 * (several `link`) become arrays. Keyed by the upstream's names, so a null-prototype record.
 */
export function interimHeaders(res: ResponseHead): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = Object.create(null);
  out[':status'] = String(res.status);
  for (let i = 0; i < res.names.length; i++) {
    const lower = res.names[i].toLowerCase();
    if (NOT_FORWARDED.has(lower) || res.connection.includes(lower)) continue;
    const seen = out[lower];
    if (seen === undefined) out[lower] = res.values[i];
    else if (Array.isArray(seen)) seen.push(res.values[i]);
    else out[lower] = [seen, res.values[i]];
  }
  return out;
}

/**
 * One of the proxy's own pages (pages.ts) as an HTTP/2 response: the very page the HTTP/1 path sends,
 * read back with the strict response parser, so both paths answer with the same status, code and headers.
 */
export function errorResponse(kind: ProxyErrorKind, options: { json: boolean; head: boolean; hsts: string | null }): { headers: string[]; body: Buffer } {
  const page = Buffer.from(renderError(kind, { json: options.json, close: false, head: options.head }), 'utf8');
  const parsed = parseResponseHead(page, page.length);
  // renderError writes a well-formed head: anything else is a bug in pages.ts, not input.
  if (parsed === null || isHeadError(parsed)) throw new Error(`pages.ts rendered an unparsable head for ${kind.code}`);
  return { headers: responseHeaders(parsed, options.hsts), body: page.subarray(parsed.size) };
}
