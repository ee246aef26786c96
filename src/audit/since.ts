import { fail } from '../errors/catalogue.ts';
import { parseDuration } from '../lib/duration.ts';

/**
 * `since` as the API takes it (`GET /v1/events`, `GET /v1/audit`): a duration back from `now` (`7d`,
 * `10m`) or an ISO time; anything else is REQUEST_INVALID on the field, with examples of both.
 */
export function parseSince(value: string, now: number): number {
  const duration = parseDuration(value);
  if (duration !== undefined) return now - duration;
  const time = /^\d{4}-\d{2}-\d{2}/.test(value) ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(time)) {
    throw fail('REQUEST_INVALID', { issues: [{ path: 'since', message: `${JSON.stringify(value)} is neither a duration nor an ISO time`, fix: 'since=7d, since=10m or since=2026-11-22T10:00:00Z' }] });
  }
  return time;
}
