/** Character rules from RFC 9110/9112, compiled once. */
export const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/**
 * Methods as nginx takes them: uppercase letters, `_` and `-`. Any token is a method to RFC 9110, but app
 * servers disagree on the rest (`get`, `G.T`), and a request the app reads differently is one to refuse.
 */
export const METHOD = /^[A-Z_-]{1,32}$/;
/** Field values may hold visible ASCII, obs-text (0x80-0xff), SP and HTAB; anything else is smuggling bait. */
export const BAD_VALUE_CHAR = /[\x00-\x08\x0a-\x1f\x7f]/;
/** request-target: visible ASCII only, no spaces or controls. */
export const TARGET = /^[\x21-\x7e]+$/;
export const DIGITS = /^\d{1,15}$/;

export function trimOws(value: string): string {
  let start = 0;
  let end = value.length;
  while (start < end && (value.charCodeAt(start) === 32 || value.charCodeAt(start) === 9)) start++;
  while (end > start && (value.charCodeAt(end - 1) === 32 || value.charCodeAt(end - 1) === 9)) end--;
  return start === 0 && end === value.length ? value : value.slice(start, end);
}

/** Comma-separated list tokens, lowercased and trimmed (`Connection: keep-alive, Upgrade`). */
export function listTokens(value: string): string[] {
  const out: string[] = [];
  for (const part of value.split(',')) {
    const token = trimOws(part).toLowerCase();
    if (token) out.push(token);
  }
  return out;
}

/** Headers that describe one connection and must never be forwarded across the proxy (RFC 9110 7.6.1). */
export const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'te',
  'trailer',
  'upgrade',
  'proxy-authenticate',
  'proxy-authorization',
]);
