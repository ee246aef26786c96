/**
 * `berth logs APP --access`: the requests the proxy answered for one app, from the access log it writes
 * under DATA/logs/access (format: src/dataplane/access-log.ts). A read scans the files newest first,
 * backwards from their ends, until it has the last `tail` entries that pass the filters, the `since` time
 * is behind it, or it has scanned `maxScanBytes` (then it says it is not complete): memory stays bounded by
 * one chunk, one line and the entries kept, however large the files. A follow then continues with what
 * the proxy appends, across rotations (./access-log-files.ts).
 */
import { open } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { ACCESS_LOG_CURRENT, parseAccessLine, type AccessEntry } from '../dataplane/access-log.ts';
import { statusMatches, type StatusFilter } from '../model/wire-logs.ts';
import { accessLogFiles, followCurrentFile, lastLineEnd, linesBackward, type FollowStart } from './access-log-files.ts';

/** Where the proxy writes the access log. */
export const accessLogDir = (dataDir: string): string => join(dataDir, 'logs', 'access');

/** The most bytes one read scans before it answers with what it found (a rare app in weeks of logs). */
export const MAX_SCAN_BYTES = 256 * 1024 * 1024;

export interface AccessQuery {
  app: string;
  tail: number;
  status?: StatusFilter;
  pathPrefix?: string;
  sinceMs?: number;
}

export interface AccessRead {
  /** Oldest first. */
  entries: AccessEntry[];
  complete: boolean;
  /** With `follow`: the current file as read, for followAccessLog (which closes it); null without one. */
  from: FollowStart | null;
}

/** The entry's filters: this app, the status, the path prefix (time is the reader's). */
export function accessMatcher(query: Pick<AccessQuery, 'app' | 'status' | 'pathPrefix'>): (entry: AccessEntry) => boolean {
  const { app, status, pathPrefix } = query;
  return (e) => e.app === app && (!status || statusMatches(status, e.status)) && (!pathPrefix || e.path.startsWith(pathPrefix));
}

export async function readAccessLog(dir: string, query: AccessQuery, options: { follow?: boolean; maxScanBytes?: number } = {}): Promise<AccessRead> {
  const maxScan = options.maxScanBytes ?? MAX_SCAN_BYTES;
  const matches = accessMatcher(query);
  // The proxy writes with JSON.stringify: a line without the app's name as a JSON string is not the app's,
  // and that test is much cheaper than parsing every line of other apps.
  const appLiteral = JSON.stringify(query.app);
  const found: AccessEntry[] = [];
  let scanned = 0;
  let complete = true;
  let from: FollowStart | null = null;
  let done = query.tail === 0;
  for (const file of await accessLogFiles(dir)) {
    const current = basename(file) === ACCESS_LOG_CURRENT;
    if (done && !(current && options.follow)) break;
    const handle = await open(file, 'r').catch(() => null);
    if (!handle) continue; // rotated away or pruned since the listing
    try {
      const { size, ino } = await handle.stat();
      const end = current ? await lastLineEnd(handle, size) : size;
      if (current && options.follow) from = { handle, ino, offset: end };
      scan: for await (const batch of done ? [] : linesBackward(handle, end, (n) => (scanned += n))) {
        for (const line of batch) {
          if (!line.includes(appLiteral) && query.sinceMs === undefined) continue;
          const entry = checkedEntry(parseAccessLine(line));
          if (!entry) continue;
          // Files are in time order: once past `since`, everything before is older still.
          if (query.sinceMs !== undefined && Date.parse(entry.time) < query.sinceMs) {
            done = true;
            break scan;
          }
          if (matches(entry)) found.push(entry);
          if (found.length >= query.tail) {
            done = true;
            break scan;
          }
        }
        if (scanned >= maxScan) {
          complete = false;
          break;
        }
      }
    } finally {
      if (from?.handle !== handle) await handle.close();
    }
    if (!complete) break;
  }
  return { entries: found.reverse(), complete, from };
}

/** Passes the app's new entries to `onEntry` until `signal` aborts, from where `from` left off (closing it). */
export async function followAccessLog(
  dir: string,
  query: Pick<AccessQuery, 'app' | 'status' | 'pathPrefix'>,
  from: FollowStart | null,
  io: { signal: AbortSignal; pollMs?: number; onEntry(entry: AccessEntry): void },
): Promise<void> {
  const matches = accessMatcher(query);
  await followCurrentFile(dir, from, {
    signal: io.signal,
    pollMs: io.pollMs ?? 250,
    onLine: (line) => {
      const entry = checkedEntry(parseAccessLine(line));
      if (entry && matches(entry)) io.onEntry(entry);
    },
  });
}

/**
 * An entry whose every field has its type (a line of another version, or damage, may not): the filters
 * and views read them without a check. Fields only shown get a neutral value; one filtered on must be right.
 */
export function checkedEntry(e: AccessEntry | null): AccessEntry | null {
  if (!e || !Number.isFinite(Date.parse(e.time)) || !Number.isInteger(e.status) || (e.app !== null && typeof e.app !== 'string')) return null;
  const text = (v: unknown) => (typeof v === 'string' ? v : '');
  const count = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : 0);
  const orNull = (v: unknown) => (typeof v === 'string' ? v : null);
  return {
    time: e.time,
    ip: text(e.ip),
    method: e.method,
    path: e.path,
    status: e.status,
    bytes: Math.round(count(e.bytes)),
    ms: count(e.ms),
    host: text(e.host),
    app: e.app,
    release: orNull(e.release),
    instance: orNull(e.instance),
    id: text(e.id),
    proto: e.proto === 'h2' ? 'h2' : 'h1',
    tls: e.tls === true,
  };
}
