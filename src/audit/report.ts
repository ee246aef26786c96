/**
 * `berth audit`: one period of an app's (or every app's) events as a GitHub-flavoured Markdown report: a
 * title, the period, a summary, a timeline table (Time | Event | Details) and a policy-violations table
 * (Time | Check | Reason), and a table of checks skipped or failed (Time | Checks | Outcome). Pure: events, their tally and the period in, the text out; the API gathers the
 * input (./gather.ts) and serves the text, the CLI only writes it out. Every text an event carries is
 * escaped and bounded by ./markdown.ts, so no message can break the tables.
 */
import { formatDuration } from '../lib/duration.ts';
import { cell, inline, table } from './markdown.ts';
import { summarize, summaryLines, type Tally } from './summary.ts';

/** An event as the report reads it: the API's view of one (server paths already redacted). */
export interface ReportEvent {
  at: string;
  app: string | null;
  deploymentId: string | null;
  type: string;
  message: string;
  data?: unknown;
}

/** Some of a period's events, oldest first, and how many there were in all (more: the list was cut). */
export interface EventSlice {
  events: readonly ReportEvent[];
  total: number;
}

export interface AuditInput {
  /** The app reported on; null for every app. */
  app: string | null;
  /** The period, epoch milliseconds: events at or after `from`, at or before `to`. */
  from: number;
  to: number;
  /** Every event of the period counted by type (Events.tally). */
  tally: Tally;
  timeline: EventSlice;
  violations: EventSlice;
  /** The check pipeline's exceptions (./checks.ts): deploys that skipped their checks, and checks that failed. */
  checks: EventSlice;
}

/**
 * The types counted in the summary but not listed in the timeline: lines of build and release output,
 * pull progress and the health gate's single probes, which would bury what an auditor looks for.
 */
export const UNLISTED_TYPES: readonly string[] = ['build.log', 'release.log', 'check.log', 'image.pull', 'health.probe'];

/** `2026-12-07T15:32:31Z`: to the second, in UTC, as auditors compare times across machines. */
export function reportTime(at: string | number): string {
  const date = new Date(at);
  return Number.isFinite(date.getTime()) ? date.toISOString().replace(/\.\d{3}Z$/, 'Z') : String(at);
}

export function renderAudit(input: AuditInput): string {
  const subject = input.app === null ? 'all apps' : inline(input.app);
  const out = [
    `# berth audit: ${subject}`,
    '',
    `**Period:** ${reportTime(input.from)} to ${reportTime(input.to)} (${span(input.to - input.from)}), times in UTC.`,
    '',
    '## Summary',
    '',
    ...summaryLines(summarize(input.tally), inline),
    '',
    '## Timeline',
    '',
    ...cutNote(input.timeline, 'events'),
    table(['Time', 'Event', 'Details'], timelineRows(input)),
    '',
    `Build, release and check output, image pull progress and health probes are counted in the summary, not listed.`,
    '',
    '## Policy violations',
    '',
    ...cutNote(input.violations, 'violations'),
    table(['Time', 'Check', 'Reason'], violationRows(input.violations, input.app === null)),
    '',
    '## Checks skipped or failed',
    '',
    ...cutNote(input.checks, 'check records'),
    table(['Time', 'Checks', 'Outcome'], checkRows(input.checks, input.app === null)),
    '',
  ];
  return out.join('\n');
}

function timelineRows(input: AuditInput): string[][] {
  if (input.timeline.events.length === 0) return [['-', '-', 'no events recorded']];
  return input.timeline.events.map((event) => {
    // Across every app, each row says whose it is; the app name is a hostname label, but escaped all the same.
    const details = input.app === null && event.app !== null ? `${event.app}: ${event.message}` : event.message;
    return [reportTime(event.at), cell(event.type, 64), cell(details)];
  });
}

function violationRows(slice: EventSlice, everyApp: boolean): string[][] {
  if (slice.events.length === 0) return [['-', '-', 'none recorded']];
  return slice.events.map((event) => {
    const data = violationData(event.data);
    const reason = data ? `${data.reason}${data.deployment ? ` (deployment ${data.deployment})` : ''}` : event.message;
    const app = everyApp && event.app !== null ? `${event.app}: ` : '';
    return [reportTime(event.at), cell(data?.check ?? '-', 100), cell(`${app}${reason}`)];
  });
}

/** The data of a `policy.violation` (model/events.ts), read defensively: the report must render whatever was stored. */
function violationData(data: unknown): { check: string; reason: string; deployment?: string } | undefined {
  if (typeof data !== 'object' || data === null) return undefined;
  const { check, reason, deployment } = data as Record<string, unknown>;
  if (typeof check !== 'string' || typeof reason !== 'string') return undefined;
  return typeof deployment === 'string' ? { check, reason, deployment } : { check, reason };
}

/**
 * One row per deploy that skipped its checks (`--skip-checks`) and per check that failed; read defensively
 * as violationData is. The deployment is named, so the auditor can follow it with `berth events`.
 */
function checkRows(slice: EventSlice, everyApp: boolean): string[][] {
  if (slice.events.length === 0) return [['-', '-', 'none recorded']];
  return slice.events.map((event) => {
    const data = (typeof event.data === 'object' && event.data !== null ? event.data : {}) as Record<string, unknown>;
    const names = event.type === 'checks.skipped' ? (Array.isArray(data.checks) ? data.checks.filter((n) => typeof n === 'string').join(', ') : '') : typeof data.check === 'string' ? data.check : '';
    const outcome = event.type === 'checks.skipped' ? 'skipped with --skip-checks' : `failed: ${typeof data.reason === 'string' ? data.reason : event.message}`;
    const app = everyApp && event.app !== null ? `${event.app}: ` : '';
    const deployment = event.deploymentId ? ` (deployment ${event.deploymentId})` : '';
    return [reportTime(event.at), cell(names || '-', 200), cell(`${app}${outcome}${deployment}`)];
  });
}

/** The period's length: exact when it is a whole number of some unit (`7d`), else to the minute. */
function span(ms: number): string {
  const exact = formatDuration(Math.max(0, ms));
  if (!exact.endsWith('ms') || ms < 60_000) return exact;
  const minutes = Math.round(ms / 60_000);
  const [d, h, m] = [Math.floor(minutes / 1440), Math.floor((minutes % 1440) / 60), minutes % 60];
  return `about ${[d ? `${d}d` : '', h ? `${h}h` : '', m ? `${m}m` : ''].join('') || '0m'}`;
}

/** When the slice was cut: a line saying how much, before its table. */
function cutNote(slice: EventSlice, what: string): string[] {
  const left = slice.total - slice.events.length;
  if (left <= 0) return [];
  return [`This report was cut: it lists the last ${slice.events.length} of the period's ${slice.total} ${what}; the ${left} before them are left out (choose a shorter period with \`--since\`).`, ''];
}
