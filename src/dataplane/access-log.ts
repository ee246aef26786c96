/**
 * The access log the data plane writes: one JSON object per line per request answered, in files under
 * one folder. The proxy writes it (off the hot path, rotated by size, kept by age); the daemon reads it
 * (`berth logs APP --access`), and the traffic shield follows it. This module is the format both sides
 * agree on: the entry, the file names, and a tolerant reader of one line.
 */

/** One request as the proxy answered it. */
export interface AccessEntry {
  /** ISO 8601 time the response ended, UTC, milliseconds. */
  time: string;
  /** The client's address (the socket's peer). */
  ip: string;
  method: string;
  /** The request target's path, without the query string (queries carry tokens often enough). */
  path: string;
  status: number;
  /** Response body bytes sent to the client. */
  bytes: number;
  /** From the request head's arrival to the response's last byte, milliseconds (3 decimals). */
  ms: number;
  /** The Host it asked for, lowercase, without the port. */
  host: string;
  /** The app the host routes to; null when none does (the proxy answered itself). */
  app: string | null;
  /** The release id and instance id that answered; null when the proxy answered itself. */
  release: string | null;
  instance: string | null;
  /** The X-Request-ID passed to the app: the client's when it sent a valid one, else generated. */
  id: string;
  /** `h1` or `h2`, and whether it came over TLS. */
  proto: 'h1' | 'h2';
  tls: boolean;
  /** Present (true) only when `berth chaos` slowed or failed the request (then release and instance name the target it picked). */
  chaos?: true;
}

/** The file written now; rotated files are `access-<UTC yyyymmddThhmmss.sssZ>.log`, so names sort by time. */
export const ACCESS_LOG_CURRENT = 'access.log';
export const ROTATED_ACCESS_LOG = /^access-(\d{8}T\d{6}\.\d{3}Z)\.log$/;

export const rotatedAccessLogName = (at: Date): string => `access-${at.toISOString().replace(/[-:]/g, '')}.log`;

/** The defaults of the server settings that size the log. */
export const ACCESS_LOG_DEFAULTS = { maxFileBytes: 64 * 1024 * 1024, keepDays: 14 } as const;

/** What the proxy reports of its access log (ProxyStats.accessLog): its settings and counters since it started. */
export interface AccessLogStats {
  dir: string;
  maxFileBytes: number;
  keepDays: number;
  /** Lines written to disk. */
  lines: number;
  /** Lines lost: the buffer was full (a stalled disk), or their write failed. */
  dropped: number;
  /** Writes that failed. */
  failures: number;
  rotations: number;
}

/** One line back as an entry; null for a line that is not one (torn by a crash, or not ours). */
export function parseAccessLine(line: string): AccessEntry | null {
  if (line.length === 0 || line.length > 16 * 1024 || line.charCodeAt(0) !== 0x7b) return null;
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null) return null;
  const e = value as Record<string, unknown>;
  if (typeof e.time !== 'string' || typeof e.status !== 'number' || typeof e.path !== 'string' || typeof e.method !== 'string') return null;
  return e as unknown as AccessEntry;
}
