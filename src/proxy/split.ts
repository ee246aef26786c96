import type { CanarySplit } from '../dataplane/route-table.ts';

/**
 * A canary split's side for one request (dataplane/route-table.ts `AppRoute.split`). Each client falls in
 * a bucket 0..99 and the canary side is buckets below the percentage, so raising the percentage only ever
 * moves clients from stable to canary, never back. Pure, and cheap: the hot path calls it once per request
 * of an app under a split, and never for any other app.
 */

/** The cookie that carries a client's bucket (sticky `cookie`). */
export const SPLIT_COOKIE = 'berth_split';

/** A week: long enough for a canary's life, short enough that stale buckets fade. */
const COOKIE_MAX_AGE_S = 604_800;

/**
 * How far into a Cookie value the split cookie is looked for. The head is already bounded (32 KiB); this
 * bounds the work per request further (one indexOf pass at most, a few microseconds). Browsers keep an
 * origin's cookies well under it; a split cookie past it is as good as absent (the address decides).
 */
export const COOKIE_SCAN_LIMIT = 16 * 1024;

/** What the exchange needs: the side, and the Set-Cookie line to add to the app's answer (null: none). */
export interface SplitSide {
  canary: boolean;
  setCookie: string | null;
}

/**
 * The client's bucket from its address: FNV-1a over the address text, then murmur3's finalizer so that
 * neighbouring addresses (10.0.0.1, 10.0.0.2) spread over all buckets. Fixed, not seeded per process: a
 * client keeps its side across proxy restarts. The socket's address, never X-Forwarded-For (the client
 * writes that one).
 */
export function addressBucket(ip: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < ip.length; i++) {
    h ^= ip.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return (h >>> 0) % 100;
}

/**
 * The bucket in the request's split cookie, or -1 when it has no valid one. Only `berth_split` is read,
 * within the first COOKIE_SCAN_LIMIT characters of each Cookie field; valid means exactly how the proxy
 * writes it: `0` to `99`, no sign, no leading zero, no exponent. With several, the first valid one counts.
 * `names` may be in any case (HTTP/1) or lowercase (HTTP/2, whose cookie fields are already joined).
 */
export function cookieBucket(names: readonly string[], values: readonly string[]): number {
  for (let i = 0; i < names.length; i++) {
    const name = names[i];
    // The two spellings clients send, compared before any lowercasing.
    if (name.length !== 6 || (name !== 'cookie' && name !== 'Cookie' && name.toLowerCase() !== 'cookie')) continue;
    const bucket = bucketIn(values[i]);
    if (bucket !== -1) return bucket;
  }
  return -1;
}

function bucketIn(value: string): number {
  const end = Math.min(value.length, COOKIE_SCAN_LIMIT);
  let from = 0;
  while (from < end) {
    const at = value.indexOf(SPLIT_COOKIE, from);
    if (at === -1 || at + SPLIT_COOKIE.length >= end) return -1;
    from = at + SPLIT_COOKIE.length;
    // A pair's name starts the value or follows `;` and optional spaces: `xberth_split=1` is another cookie.
    if (!startsPair(value, at)) continue;
    if (value.charCodeAt(from) !== 61 /* = */) continue;
    const bucket = canonicalBucket(value, from + 1, end);
    if (bucket !== -1) return bucket;
  }
  return -1;
}

function startsPair(value: string, at: number): boolean {
  let i = at - 1;
  while (i >= 0 && (value.charCodeAt(i) === 32 || value.charCodeAt(i) === 9)) i--;
  return i < 0 || value.charCodeAt(i) === 59 /* ; */;
}

/** `0`..`99` from `start` up to the pair's end (`;`, a space or `end`), else -1. */
function canonicalBucket(value: string, start: number, end: number): number {
  let stop = start;
  while (stop < end && stop - start < 3) {
    const c = value.charCodeAt(stop);
    if (c === 59 || c === 32 || c === 9) break;
    if (c < 48 || c > 57) return -1;
    stop++;
  }
  const length = stop - start;
  if (length === 0 || length > 2) return -1;
  if (stop < value.length) {
    // Cut by the scan limit in the middle of a number, or followed by more than digits: not valid.
    const c = value.charCodeAt(stop);
    if (c !== 59 && c !== 32 && c !== 9) return -1;
  }
  const first = value.charCodeAt(start) - 48;
  if (length === 1) return first;
  if (first === 0) return -1; // `05`: not how the proxy writes it
  return first * 10 + value.charCodeAt(start + 1) - 48;
}

/** The Set-Cookie values, made once: buckets 0..99, without and with `Secure`. */
const cookieLines: string[][] = [[], []];

/** `berth_split=<bucket>` for a week, sent back on every path, not readable by scripts; `Secure` over TLS. */
export function splitCookie(bucket: number, tls: boolean): string {
  const lines = cookieLines[tls ? 1 : 0];
  let line = lines[bucket];
  if (line === undefined) {
    line = `${SPLIT_COOKIE}=${bucket}; Path=/; Max-Age=${COOKIE_MAX_AGE_S}; HttpOnly; SameSite=Lax${tls ? '; Secure' : ''}`;
    lines[bucket] = line;
  }
  return line;
}

/**
 * The side of one request. `address`: the address's bucket. `cookie`: the cookie's bucket when valid,
 * else the address's, and then the answer sets the cookie so the client keeps that bucket from now on
 * (even if its address changes). `ip`: the socket's remote address.
 */
export function splitSide(split: CanarySplit, names: readonly string[], values: readonly string[], ip: string, tls: boolean): SplitSide {
  if (split.sticky !== 'cookie') return { canary: addressBucket(ip) < split.percent, setCookie: null };
  const fromCookie = cookieBucket(names, values);
  if (fromCookie !== -1) return { canary: fromCookie < split.percent, setCookie: null };
  const bucket = addressBucket(ip);
  return { canary: bucket < split.percent, setCookie: splitCookie(bucket, tls) };
}
