/**
 * The API's metrics shapes (GET /v1/apps/:app/metrics): what `berth status`, `berth top` and the canary
 * analysis of a later issue read. Latencies in milliseconds, rates per second, error rates as 0..1.
 */
import { InstanceRunState, InstanceState } from './wire-records.ts';
import * as w from './wire-schema.ts';

const ms = (doc: string) => w.described(doc, w.nullable(w.number()));

export const TrafficFigures = w.named(
  'TrafficFigures',
  w.object({
    requests: w.described('requests in the window', w.integer()),
    requestsPerSecond: w.described('requests over the whole window, per second', w.number()),
    errorRate: w.described('5xx answers and proxy errors over all requests, 0..1; null without requests', w.nullable(w.number())),
    latencyMs: w.object({
      p50: ms('median latency (histogram interpolation, as Prometheus histogram_quantile); null without requests'),
      p95: ms('95th percentile'),
      p99: ms('99th percentile'),
      mean: ms('mean latency'),
    }),
  }),
);
export type TrafficFigures = w.Infer<typeof TrafficFigures>;

export const ReleaseTraffic = w.named(
  'ReleaseTraffic',
  w.object({
    id: w.string(),
    name: w.described('"v3"', w.string()),
    current: w.described('the release the app serves', w.boolean()),
    requests: w.integer(),
    requestsPerSecond: w.number(),
    errorRate: w.nullable(w.number()),
    latencyMs: w.object({ p50: w.nullable(w.number()), p95: w.nullable(w.number()), p99: w.nullable(w.number()), mean: w.nullable(w.number()) }),
  }),
);
export type ReleaseTraffic = w.Infer<typeof ReleaseTraffic>;

export const InstanceUsage = w.named(
  'InstanceUsage',
  w.object({
    id: w.string(),
    process: w.string(),
    release: w.described('"v3"', w.string()),
    state: InstanceState,
    run: w.described('what the runtime said at its last sample; null before one', w.nullable(InstanceRunState)),
    restarts: w.integer(),
    cpuSeconds: w.described('CPU time used (user + system); null until the runtime reported it', w.nullable(w.number())),
    cpuPercent: w.described('share of one CPU between the last two samples (200 = two cores)', w.nullable(w.number())),
    memoryBytes: w.nullable(w.number()),
    memoryLimitBytes: w.nullable(w.number()),
  }),
);
export type InstanceUsage = w.Infer<typeof InstanceUsage>;

export const AppMetrics = w.named(
  'AppMetrics',
  w.object({
    app: w.string(),
    window: w.enumOf(['1m', '5m', '1h']),
    windowSeconds: w.integer(),
    at: w.dateTime(),
    total: TrafficFigures,
    releases: w.described('the current release first (also without traffic), then others with requests in the last hour', w.array(ReleaseTraffic)),
    instances: w.array(InstanceUsage),
  }),
);
export type AppMetrics = w.Infer<typeof AppMetrics>;
