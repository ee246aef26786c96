import type { AccessEntry } from '../../dataplane/access-log.ts';

/** Where the proxy's connections put one access-log entry per request answered (AccessLogWriter). */
export interface AccessSink {
  add(entry: AccessEntry): void;
}

/**
 * Bounds of the text fields a client chooses, so every line stays under `parseAccessLine`'s 16 KiB (a
 * request head may be 32 KiB): a longer value is cut, never refused (the request was already answered).
 */
const MAX = { method: 32, path: 4096, host: 255 } as const;

const cut = (text: string, max: number) => (text.length > max ? text.slice(0, max) : text);

/** The request target's path without its query string, bounded. */
export function accessPath(target: string): string {
  const query = target.indexOf('?');
  return cut(query === -1 ? target : target.slice(0, query), MAX.path);
}

export const accessMethod = (method: string) => cut(method, MAX.method);
export const accessHost = (host: string | null) => (host === null ? '' : cut(host, MAX.host));

/** Milliseconds with 3 decimals, as AccessEntry.ms says. */
export const accessMs = (ms: number) => Math.round(ms * 1000) / 1000;

/** A string as JSON: quoted as it is when nothing in it needs escaping (the common case), else by JSON.stringify. */
const NEEDS_ESCAPE = /["\\\u0000-\u001f\u007f-\uffff]/;
const str = (text: string): string => (NEEDS_ESCAPE.test(text) ? JSON.stringify(text) : `"${text}"`);
const strOrNull = (text: string | null): string => (text === null ? 'null' : str(text));

/**
 * One line: the entry's fields in their declared order, newline-ended; the same text as
 * `JSON.stringify(entry) + '\n'` (a test holds it to that), built by hand since it runs once per request
 * and JSON.stringify of the whole object costs twice as much.
 */
export function accessLine(e: AccessEntry): string {
  return (
    `{"time":"${e.time}","ip":${str(e.ip)},"method":${str(e.method)},"path":${str(e.path)},"status":${e.status},"bytes":${e.bytes},"ms":${e.ms},` +
    `"host":${str(e.host)},"app":${strOrNull(e.app)},"release":${strOrNull(e.release)},"instance":${strOrNull(e.instance)},"id":${str(e.id)},"proto":"${e.proto}","tls":${e.tls}${e.chaos ? ',"chaos":true' : ''}}\n`
  );
}

let isoAt = -1;
let iso = '';
/** Now as an ISO time; computed once per millisecond, since many requests end in the same one under load. */
export function isoNow(): string {
  const now = Date.now();
  if (now !== isoAt) {
    isoAt = now;
    iso = new Date(now).toISOString();
  }
  return iso;
}

/** The body bytes of a response the proxy wrote whole (its own pages): what follows the head. */
export function pageBodyBytes(page: string): number {
  const end = page.indexOf('\r\n\r\n');
  return end === -1 ? 0 : Buffer.byteLength(page) - end - 4;
}

/** The status of a response the proxy wrote whole (`HTTP/1.1 308 ...`). */
export const pageStatus = (page: string): number => Number(page.slice(9, 12));
