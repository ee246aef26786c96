/** The part of a log query every driver answers the same way: filter by time, then keep the tail. */
import type { LogLine, LogQuery } from './driver.ts';

/** `sinceMs` is an epoch-milliseconds timestamp (compared with LogLine.ts); `tail` keeps the last n lines. */
export function selectLogLines(lines: readonly LogLine[], query: Pick<LogQuery, 'sinceMs' | 'tail'>): LogLine[] {
  const since = query.sinceMs;
  const filtered = since === undefined ? [...lines] : lines.filter((l) => l.ts >= since);
  if (query.tail === undefined) return filtered;
  const tail = Math.max(0, Math.floor(query.tail));
  return tail === 0 ? [] : filtered.slice(-tail);
}
