/**
 * The canary's analysis, pure: the numbers of one step's window from two readings of the proxy's
 * cumulative per-release counters, whether there are enough of them for a verdict, and the words a
 * verdict is reported with. The runner (./canary.ts) reads the counters and asks the policies; nothing
 * here reads a clock or does I/O.
 */
import type { ReleaseStats } from '../../dataplane/route-table.ts';
import { CODE_CLASSES, emptySums, figures, type WindowSums } from '../../metrics/windows.ts';
import type { TrafficFacts } from '../../policy/facts.ts';
import type { CanaryFigures } from '../../model/wire-rollout.ts';

/** One release's cumulative counters at one moment (the slice of ReleaseStats the analysis reads). */
export type Counters = Pick<ReleaseStats, 'requests' | 'status' | 'latency'>;

/** The counters of `release` (a route table name such as `v5`) of `app`; null when the proxy has none yet. */
export function countersOf(releases: readonly ReleaseStats[], app: string, release: string): Counters | null {
  const found = releases.find((r) => r.app === app && r.release === release);
  return found ? { requests: found.requests, status: { ...found.status }, latency: { bounds: [...found.latency.bounds], counts: [...found.latency.counts], sumMs: found.latency.sumMs } } : null;
}

/**
 * What happened between two readings. A counter that went down means the proxy restarted in between
 * (its counters start again at 0): the window then counts from that restart, the later reading alone.
 */
export function windowSums(before: Counters | null, after: Counters | null): WindowSums {
  if (after === null) return emptySums([]);
  const reset =
    before === null ||
    after.requests < before.requests ||
    before.latency.bounds.length !== after.latency.bounds.length ||
    after.latency.counts.some((n, i) => n < (before.latency.counts[i] ?? 0));
  const base = reset ? null : before;
  const sums = emptySums(after.latency.bounds);
  sums.requests = after.requests - (base?.requests ?? 0);
  for (const c of CODE_CLASSES) sums.status[c] = Math.max(0, after.status[c] - (base?.status[c] ?? 0));
  sums.buckets = after.latency.counts.map((n, i) => n - (base?.latency.counts[i] ?? 0));
  sums.sumMs = Math.max(0, after.latency.sumMs - (base?.latency.sumMs ?? 0));
  return sums;
}

/** A window's numbers as `berth status` and the events show them. */
export function windowFigures(before: Counters | null, after: Counters | null, windowMs: number): CanaryFigures {
  const f = figures(windowSums(before, after), Math.max(1, windowMs));
  return { requests: f.requests, requestsPerSecond: f.requestsPerSecond, errorRate: f.errorRate, p50: f.latencyMs.p50, p95: f.latencyMs.p95, p99: f.latencyMs.p99 };
}

/** A window's numbers as the policies read them (`canary.*`, `stable.*`). */
export const trafficFacts = (f: CanaryFigures): TrafficFacts => ({
  requests: f.requests,
  requestsPerSecond: f.requestsPerSecond,
  errorRate: f.errorRate,
  latencyMs: { p50: f.p50, p95: f.p95, p99: f.p99 },
});

/**
 * The minimum sample guard: a verdict on a handful of requests says nothing, so below `minRequests` the
 * step waits for more; once the step's time and `maxWaitMs` after it are over without enough, the canary
 * fails as inconclusive (berth cannot tell a good release from an unused one).
 */
export function sampleDecision(o: { requests: number; minRequests: number; now: number; stepEndsAt: number; maxWaitMs: number }): 'judge' | 'wait' | 'inconclusive' {
  if (o.requests >= o.minRequests) return 'judge';
  return o.now >= o.stepEndsAt + o.maxWaitMs ? 'inconclusive' : 'wait';
}

/** A step passes once its time is over and its last judgement allowed. */
export const stepPassed = (o: { now: number; stepEndsAt: number }): boolean => o.now >= o.stepEndsAt;

/** The canary's share at step `index` (berth.yaml's weights, clamped to 0..100). */
export const stepPercent = (steps: readonly { weight: number }[], index: number): number => Math.max(0, Math.min(100, Math.round(steps[index]?.weight ?? 0)));

const percentText = (rate: number | null) => (rate === null ? '-' : `${Math.round(rate * 1000) / 10} %`);
const msText = (ms: number | null) => (ms === null ? '-' : `${Math.round(ms)} ms`);

/** `error rate 30.2 %, p99 812 ms over 412 requests`: the numbers a verdict was reached on. */
export function figuresText(f: CanaryFigures): string {
  return `error rate ${percentText(f.errorRate)}, p99 ${msText(f.p99)} over ${f.requests} request${f.requests === 1 ? '' : 's'}`;
}

/** A deny in one line: the policy's message, its name, and the canary's numbers (and stable's, to compare). */
export function denialText(denied: { policy: string; reason: string }, canary: CanaryFigures, stable: CanaryFigures): string {
  return `${denied.reason} (policy ${denied.policy}): ${figuresText(canary)}; stable ${figuresText(stable)}`;
}

/**
 * Target weights that give the canary `percent` % of new requests by weight alone (a proxy without the
 * split, or within a side of it): each canary target weighs percent x stable targets, each stable target
 * (100 - percent) x canary targets, so the sides' totals stand as percent : 100 - percent whatever their
 * instance counts. With the split the proxy picks the side by the client's bucket first; equal weights
 * within a side keep its round-robin even, and a side at 0 has no pickable target, so the other serves.
 */
export function splitWeights(percent: number, canaryTargets: number, stableTargets: number): { canary: number; stable: number } {
  if (canaryTargets === 0 || stableTargets === 0) return { canary: 1, stable: 1 };
  const p = Math.max(0, Math.min(100, Math.round(percent)));
  return { canary: p * stableTargets, stable: (100 - p) * canaryTargets };
}
