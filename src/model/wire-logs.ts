/**
 * The access log as the API sends it (`GET /v1/apps/:app/access-log`, `berth logs APP --access`), and
 * the grammar of the filters the CLI and the server both check: `--status` and `--grep`. Standalone (only
 * the schema builder): wire.ts imports it and re-exports it.
 */
import * as w from './wire-schema.ts';

/** The longest `--grep` pattern taken (characters). */
export const MAX_GREP_LENGTH = 256;
/** The longest `--path` prefix taken (characters). */
export const MAX_ACCESS_PATH_PREFIX = 1024;
/** The most entries one read answers (the access log's tail). */
export const MAX_ACCESS_TAIL = 5_000;

/** One request the proxy answered for the app (src/dataplane/access-log.ts: AccessEntry), strings capped for display. */
export const AccessLogEntry = w.named(
  'AccessLogEntry',
  w.object({
    time: w.dateTime(),
    ip: w.string(),
    method: w.string(),
    path: w.described('the path without its query string; past 2048 characters cut, ending in "…"', w.string()),
    status: w.integer(),
    bytes: w.described('response body bytes', w.integer()),
    ms: w.described('from the request head to the last byte of the response, milliseconds', w.number()),
    host: w.string(),
    release: w.described('the release name (v3) when berth knows it, else its id; null when the proxy answered itself', w.nullable(w.string())),
    instance: w.nullable(w.string()),
    requestId: w.described('the X-Request-ID the app was given', w.string()),
    proto: w.enumOf(['h1', 'h2']),
    tls: w.boolean(),
  }),
);
export type AccessLogEntry = w.Infer<typeof AccessLogEntry>;

export const AccessLog = w.named(
  'AccessLog',
  w.object({
    entries: w.described('oldest first', w.array(AccessLogEntry)),
    complete: w.described('false when the read stopped at its bound of bytes scanned before it found `tail` entries: older ones may exist', w.boolean()),
  }),
);
export type AccessLog = w.Infer<typeof AccessLog>;

/** `--status`: a class (`5xx`) or one code (`404`). */
export type StatusFilter = { class: 1 | 2 | 3 | 4 | 5 } | { code: number };

/** Reads a status filter; a string saying what is wrong (for the error's message) when it is not one. */
export function parseStatusFilter(text: string): StatusFilter | string {
  const value = text.trim().toLowerCase();
  const cls = /^([1-5])xx$/.exec(value);
  if (cls) return { class: Number(cls[1]) as 1 | 2 | 3 | 4 | 5 };
  if (/^[1-5]\d\d$/.test(value)) return { code: Number(value) };
  return `${JSON.stringify(text.slice(0, 16))} is neither a status class (1xx to 5xx) nor a status code (100 to 599)`;
}

export function statusMatches(filter: StatusFilter, status: number): boolean {
  return 'code' in filter ? status === filter.code : Math.floor(status / 100) === filter.class;
}
