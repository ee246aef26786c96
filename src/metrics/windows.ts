/**
 * The window math berth reads its own traffic with (`berth status`, `berth top`, the canary analysis of a
 * later issue): sums of per-interval deltas -> requests/s, error rate and latency quantiles. Pure: the
 * rings (./ring.ts) hand in their sums, nothing here reads a clock.
 */

export const WINDOWS = { '1m': 60_000, '5m': 300_000, '1h': 3_600_000 } as const;
export type WindowName = keyof typeof WINDOWS;
export const WINDOW_NAMES = Object.keys(WINDOWS) as WindowName[];

export const isWindowName = (text: string): text is WindowName => Object.hasOwn(WINDOWS, text);

/** The status classes the proxy counts; `error`: requests the proxy answered itself (no upstream, a broken upstream). */
export const CODE_CLASSES = ['2xx', '3xx', '4xx', '5xx', 'error'] as const;
export type CodeClass = (typeof CODE_CLASSES)[number];

/** What a window holds: counts over its span, a latency histogram (per bucket, not cumulative; the last is +Inf). */
export interface WindowSums {
  requests: number;
  status: Record<CodeClass, number>;
  /** Upper bounds in ms of the finite buckets; `buckets` has one more entry (+Inf). */
  bounds: readonly number[];
  buckets: number[];
  sumMs: number;
}

/** What berth says of a window. Latencies in ms; null when the window saw no request. */
export interface TrafficFigures {
  requests: number;
  requestsPerSecond: number;
  /** 5xx answers and proxy errors over all requests, 0..1; null without requests. */
  errorRate: number | null;
  latencyMs: { p50: number | null; p95: number | null; p99: number | null; mean: number | null };
}

export const emptySums = (bounds: readonly number[]): WindowSums => ({
  requests: 0,
  status: { '2xx': 0, '3xx': 0, '4xx': 0, '5xx': 0, error: 0 },
  bounds,
  buckets: new Array<number>(bounds.length + 1).fill(0),
  sumMs: 0,
});

/**
 * Adds `b` into `a` (same app, several releases). Bounds that differ (a proxy of another version) are
 * merged by the upper bound each of b's buckets falls under in a's bounds, which keeps quantiles honest
 * upwards.
 */
export function addSums(a: WindowSums, b: WindowSums): void {
  a.requests += b.requests;
  for (const c of CODE_CLASSES) a.status[c] += b.status[c];
  a.sumMs += b.sumMs;
  for (let i = 0; i < b.buckets.length; i++) {
    const bound = i < b.bounds.length ? b.bounds[i] : Infinity;
    let j = 0;
    while (j < a.bounds.length && a.bounds[j] < bound) j++;
    a.buckets[j] += b.buckets[i];
  }
}

/**
 * The q-quantile of a histogram as Prometheus' histogram_quantile computes it: find the bucket where the
 * rank falls and interpolate linearly inside it (the first bucket starts at 0). A rank in the +Inf bucket
 * answers the highest finite bound. Null for an empty histogram.
 */
export function histogramQuantile(q: number, bounds: readonly number[], buckets: readonly number[]): number | null {
  const total = buckets.reduce((sum, n) => sum + n, 0);
  if (total <= 0 || !(q >= 0 && q <= 1)) return null;
  const rank = q * total;
  let below = 0;
  for (let i = 0; i < buckets.length; i++) {
    const count = buckets[i];
    if (below + count >= rank && count > 0) {
      if (i >= bounds.length) return bounds.length ? bounds[bounds.length - 1] : null;
      const lower = i === 0 ? 0 : bounds[i - 1];
      const upper = bounds[i];
      return lower + (upper - lower) * ((rank - below) / count);
    }
    below += count;
  }
  return bounds.length ? bounds[bounds.length - 1] : null;
}

const round = (n: number, digits: number) => Math.round(n * 10 ** digits) / 10 ** digits;

/** Requests/s over the window's whole span (as Prometheus' increase(x[w]) / w), error rate, quantiles. */
export function figures(sums: WindowSums, windowMs: number): TrafficFigures {
  const q = (p: number) => {
    const v = histogramQuantile(p, sums.bounds, sums.buckets);
    return v === null ? null : round(v, 3);
  };
  const failed = sums.status['5xx'] + sums.status.error;
  return {
    requests: sums.requests,
    requestsPerSecond: round(sums.requests / (windowMs / 1000), 4),
    errorRate: sums.requests > 0 ? round(failed / sums.requests, 6) : null,
    latencyMs: { p50: q(0.5), p95: q(0.95), p99: q(0.99), mean: sums.requests > 0 ? round(sums.sumMs / sums.requests, 3) : null },
  };
}
