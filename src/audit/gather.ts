/**
 * What the audit report of one period is made from, read from the store: the tally of every event, the
 * timeline (the listed types, at most MAX_TIMELINE, the latest ones when there are more), the policy
 * violations (at most MAX_VIOLATIONS) and the checks skipped or failed (at most MAX_CHECK_RECORDS). Bounded whatever the period holds; ./report.ts says what was cut.
 */
import type { EventRecord } from '../model/records.ts';
import type { EventFilter, Events } from '../store/events.ts';
import { UNLISTED_TYPES, type AuditInput, type EventSlice, type ReportEvent } from './report.ts';

/** The most events one report lists in its timeline. */
export const MAX_TIMELINE = 10_000;
/** The most policy violations one report lists. */
export const MAX_VIOLATIONS = 1_000;
/** The most skipped or failed checks one report lists. */
export const MAX_CHECK_RECORDS = 1_000;
/** What the report's check table lists (deploy/checks.ts). */
export const CHECK_RECORD_TYPES: readonly string[] = ['checks.skipped', 'check.failed'];

export interface AuditPeriod {
  app: string | null;
  from: number;
  to: number;
}

/** `view` turns a stored event into what the report shows (the API's view: server paths redacted). */
export function gatherAudit(events: Pick<Events, 'query' | 'count' | 'tally'>, period: AuditPeriod, view: (event: EventRecord) => ReportEvent): AuditInput {
  const base: EventFilter = { sinceMs: period.from, untilMs: period.to, ...(period.app === null ? {} : { app: period.app }) };
  const slice = (filter: EventFilter, max: number): EventSlice => {
    const listed = events.query(filter, max);
    // Counting is needed only when the list is full: then it may have been cut.
    return { events: listed.map(view), total: listed.length < max ? listed.length : events.count(filter) };
  };
  return {
    app: period.app,
    from: period.from,
    to: period.to,
    tally: events.tally(base),
    timeline: slice({ ...base, notTypes: UNLISTED_TYPES }, MAX_TIMELINE),
    violations: slice({ ...base, types: ['policy.violation'] }, MAX_VIOLATIONS),
    checks: slice({ ...base, types: CHECK_RECORD_TYPES }, MAX_CHECK_RECORDS),
  };
}
