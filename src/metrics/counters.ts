/**
 * Cumulative counters as the proxy reports them per release, and the step from one reading to the next.
 * A counter that went down means the proxy restarted (or forgot the release): as Prometheus does with a
 * counter reset, the new reading is then taken as the whole increase. Pure.
 */
import type { ReleaseStats } from '../dataplane/route-table.ts';
import { CODE_CLASSES, type CodeClass } from './windows.ts';

export interface Reading {
  requests: number;
  status: Record<CodeClass, number>;
  /** Per bucket (not cumulative), the last one +Inf. */
  buckets: number[];
  bounds: readonly number[];
  sumMs: number;
  upstreamErrors: number;
  retries: number;
  websocketsOpened: number;
}

const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : 0);

/** A release's stats as a reading; anything not a finite count becomes 0, so one odd answer cannot poison the totals. */
export function readingOf(stats: ReleaseStats): Reading {
  const bounds = Array.isArray(stats.latency?.bounds) ? stats.latency.bounds.map(num) : [];
  const counts = Array.isArray(stats.latency?.counts) ? stats.latency.counts : [];
  const buckets = Array.from({ length: bounds.length + 1 }, (_, i) => num(counts[i]));
  const status = { '2xx': 0, '3xx': 0, '4xx': 0, '5xx': 0, error: 0 } as Record<CodeClass, number>;
  for (const c of CODE_CLASSES) status[c] = num(stats.status?.[c]);
  return {
    requests: num(stats.requests),
    status,
    buckets,
    bounds,
    sumMs: num(stats.latency?.sumMs),
    upstreamErrors: num(stats.upstreamErrors),
    retries: num(stats.retries),
    websocketsOpened: num(stats.websocketsOpened),
  };
}

const sameBounds = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((v, i) => v === b[i]);

/** True when `next` cannot follow `prev` without a reset in between: some counter went down, or the buckets changed. */
export function isReset(prev: Reading, next: Reading): boolean {
  if (!sameBounds(prev.bounds, next.bounds)) return true;
  if (next.requests < prev.requests || next.sumMs < prev.sumMs) return true;
  if (next.upstreamErrors < prev.upstreamErrors || next.retries < prev.retries || next.websocketsOpened < prev.websocketsOpened) return true;
  if (CODE_CLASSES.some((c) => next.status[c] < prev.status[c])) return true;
  return next.buckets.some((n, i) => n < prev.buckets[i]);
}

/** What happened between two readings: their difference, or all of `next` after a reset (or with no `prev`). */
export function delta(prev: Reading | undefined, next: Reading): Reading {
  if (!prev || isReset(prev, next)) return { ...next, status: { ...next.status }, buckets: [...next.buckets] };
  const status = { ...next.status };
  for (const c of CODE_CLASSES) status[c] -= prev.status[c];
  return {
    requests: next.requests - prev.requests,
    status,
    buckets: next.buckets.map((n, i) => n - prev.buckets[i]),
    bounds: next.bounds,
    sumMs: next.sumMs - prev.sumMs,
    upstreamErrors: next.upstreamErrors - prev.upstreamErrors,
    retries: next.retries - prev.retries,
    websocketsOpened: next.websocketsOpened - prev.websocketsOpened,
  };
}

export const zeroReading = (bounds: readonly number[]): Reading => ({
  requests: 0,
  status: { '2xx': 0, '3xx': 0, '4xx': 0, '5xx': 0, error: 0 },
  buckets: new Array<number>(bounds.length + 1).fill(0),
  bounds,
  sumMs: 0,
  upstreamErrors: 0,
  retries: 0,
  websocketsOpened: 0,
});

/** Adds a delta into running totals of the same bounds (the daemon's own counters for Prometheus). */
export function accumulate(total: Reading, d: Reading): void {
  total.requests += d.requests;
  for (const c of CODE_CLASSES) total.status[c] += d.status[c];
  for (let i = 0; i < total.buckets.length; i++) total.buckets[i] += d.buckets[i] ?? 0;
  total.sumMs += d.sumMs;
  total.upstreamErrors += d.upstreamErrors;
  total.retries += d.retries;
  total.websocketsOpened += d.websocketsOpened;
}
