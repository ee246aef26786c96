import type { ReleaseStats, TargetStats } from '../dataplane/route-table.ts';

/** Latency bucket bounds in milliseconds (Prometheus-style, +Inf implied). Fine enough for a p99 verdict. */
export const LATENCY_BOUNDS_MS = [1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000];

/** Index of the latency bucket `ms` falls in (the last one is +Inf). */
export function latencyBucket(ms: number): number {
  let i = 0;
  while (i < LATENCY_BOUNDS_MS.length && ms > LATENCY_BOUNDS_MS[i]) i++;
  return i;
}

/** Requests by status class and a latency histogram: plain numbers and one small array, no allocation per request. */
class ExchangeCounts {
  requests = 0;
  s2xx = 0;
  s3xx = 0;
  s4xx = 0;
  s5xx = 0;
  errors = 0;
  sumMs = 0;
  readonly buckets = new Array<number>(LATENCY_BOUNDS_MS.length + 1).fill(0);

  add(status: number, ms: number, bucket: number, proxyError: boolean): void {
    this.requests++;
    if (proxyError) this.errors++;
    else if (status < 300) this.s2xx++;
    else if (status < 400) this.s3xx++;
    else if (status < 500) this.s4xx++;
    else this.s5xx++;
    this.sumMs += ms;
    this.buckets[bucket]++;
  }

  protected counts() {
    return {
      requests: this.requests,
      status: { '2xx': this.s2xx, '3xx': this.s3xx, '4xx': this.s4xx, '5xx': this.s5xx, error: this.errors },
      latency: { bounds: LATENCY_BOUNDS_MS, counts: [...this.buckets], sumMs: Math.round(this.sumMs * 1000) / 1000 },
    };
  }
}

/**
 * One release's numbers, cumulative (ReleaseStats): every target of the release adds into the same object,
 * so they outlive the targets. `lastActive` is kept by `ReleaseBook.sweep`, never on the hot path.
 */
export class ReleaseCounters extends ExchangeCounts {
  readonly app: string;
  readonly release: string;
  upstreamErrors = 0;
  retries = 0;
  inflight = 0;
  websockets = 0;
  websocketsOpened = 0;
  /** When the book last saw it named or busy (its clock); and the activity count it saw then. */
  lastActive: number;
  seenActivity = 0;

  constructor(app: string, release: string, now: number) {
    super();
    this.app = app;
    this.release = release;
    this.lastActive = now;
  }

  snapshot(): ReleaseStats {
    return {
      app: this.app,
      release: this.release,
      ...this.counts(),
      upstreamErrors: this.upstreamErrors,
      retries: this.retries,
      inflight: this.inflight,
      websockets: this.websockets,
      websocketsOpened: this.websocketsOpened,
    };
  }
}

/** Counters for one target; each request is added to its release's counters too (one bucket search for both). */
export class TargetCounters extends ExchangeCounts {
  release: ReleaseCounters;

  constructor(release: ReleaseCounters) {
    super();
    this.release = release;
  }

  record(status: number, ms: number, proxyError: boolean): void {
    const bucket = latencyBucket(ms);
    this.add(status, ms, bucket, proxyError);
    this.release.add(status, ms, bucket, proxyError);
  }

  snapshot(base: Omit<TargetStats, 'requests' | 'status' | 'latency'>): TargetStats {
    return { ...base, ...this.counts() };
  }
}
