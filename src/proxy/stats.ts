import type { TargetStats } from '../dataplane/route-table.ts';

/** Latency bucket bounds in milliseconds (Prometheus-style, +Inf implied). Fine enough for a p99 verdict. */
export const LATENCY_BOUNDS_MS = [1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000];

/** Counters for one target, updated on the hot path: plain numbers and one small array, no allocation. */
export class TargetCounters {
  requests = 0;
  s2xx = 0;
  s3xx = 0;
  s4xx = 0;
  s5xx = 0;
  errors = 0;
  sumMs = 0;
  readonly buckets = new Array<number>(LATENCY_BOUNDS_MS.length + 1).fill(0);

  record(status: number, ms: number, proxyError: boolean): void {
    this.requests++;
    if (proxyError) this.errors++;
    else if (status < 300) this.s2xx++;
    else if (status < 400) this.s3xx++;
    else if (status < 500) this.s4xx++;
    else this.s5xx++;
    this.sumMs += ms;
    let i = 0;
    while (i < LATENCY_BOUNDS_MS.length && ms > LATENCY_BOUNDS_MS[i]) i++;
    this.buckets[i]++;
  }

  snapshot(base: Omit<TargetStats, 'requests' | 'status' | 'latency'>): TargetStats {
    return {
      ...base,
      requests: this.requests,
      status: { '2xx': this.s2xx, '3xx': this.s3xx, '4xx': this.s4xx, '5xx': this.s5xx, error: this.errors },
      latency: { bounds: LATENCY_BOUNDS_MS, counts: [...this.buckets], sumMs: Math.round(this.sumMs * 1000) / 1000 },
    };
  }
}
