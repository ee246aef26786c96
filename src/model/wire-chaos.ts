/**
 * `berth chaos`: an outage simulated on an app's traffic by the proxy (slow, or failing a share of
 * requests), as the API shows it, and the limits every side checks (the CLI before asking, the API
 * before storing, the proxy before taking a table), so all three refuse the same things.
 */
import * as w from './wire-schema.ts';

export const CHAOS_MODES = ['slow', 'error'] as const;
export type ChaosMode = (typeof CHAOS_MODES)[number];

export const CHAOS_LIMITS = {
  /** slow: each request waits this long before it is forwarded. */
  minLatencyMs: 1,
  maxLatencyMs: 60_000,
  /** error: the share of requests answered by the proxy (0 excluded). */
  minRatioExclusive: 0,
  maxRatio: 1,
  /** How long it lasts before it turns itself off. */
  defaultForMs: 10 * 60_000,
  minForMs: 1000,
  maxForMs: 24 * 3600_000,
} as const;

/** error: a 5xx, or 429 (a rate limit is an outage clients must handle too). */
export const chaosStatusAllowed = (status: number): boolean => Number.isInteger(status) && ((status >= 500 && status <= 599) || status === 429);
export const chaosLatencyAllowed = (ms: number): boolean => Number.isInteger(ms) && ms >= CHAOS_LIMITS.minLatencyMs && ms <= CHAOS_LIMITS.maxLatencyMs;
export const chaosRatioAllowed = (ratio: number): boolean => typeof ratio === 'number' && Number.isFinite(ratio) && ratio > 0 && ratio <= CHAOS_LIMITS.maxRatio;
export const chaosForAllowed = (ms: number): boolean => Number.isInteger(ms) && ms >= CHAOS_LIMITS.minForMs && ms <= CHAOS_LIMITS.maxForMs;

export const ChaosState = w.named(
  'ChaosState',
  w.object({
    mode: w.described('slow: each request waits `latencyMs` before it is forwarded; error: a `ratio` of requests answered `status` by the proxy', w.enumOf(CHAOS_MODES)),
    latencyMs: w.described('slow only; null otherwise', w.nullable(w.integer())),
    status: w.described('error only; null otherwise', w.nullable(w.integer())),
    ratio: w.described('error only (0 < ratio <= 1); null otherwise', w.nullable(w.number())),
    release: w.described('the release whose instances it acts on ("v3"); null: the whole app', w.nullable(w.string())),
    since: w.dateTime(),
    until: w.described('when it turns itself off (the proxy ignores it from then on, even with the daemon down)', w.dateTime()),
  }),
);
export type ChaosState = w.Infer<typeof ChaosState>;

export const ChaosAnswer = w.object({
  app: w.string(),
  chaos: w.described('null: no chaos on the app', w.nullable(ChaosState)),
});
export type ChaosAnswer = w.Infer<typeof ChaosAnswer>;
