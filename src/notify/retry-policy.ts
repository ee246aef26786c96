/**
 * When a failed delivery is tried again, and when berth gives up on it (pure). Back-off doubles from
 * 1 s up to 10 minutes, with jitter (each wait between half and all of it) so many notifiers failing at
 * once do not retry in step; after 20 attempts or 24 hours the delivery is marked failed and the next one
 * in the notifier's queue goes.
 */
export interface RetryPolicy {
  firstDelayMs: number;
  maxDelayMs: number;
  maxAttempts: number;
  maxAgeMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { firstDelayMs: 1000, maxDelayMs: 10 * 60_000, maxAttempts: 20, maxAgeMs: 24 * 60 * 60_000 };

/** Finished deliveries kept per notifier: the history `berth notify log` shows, bounded. */
export const KEEP_HISTORY = 1000;

export type RetryVerdict = { retryAt: number } | { giveUp: string };

/** After attempt number `attempts` (1 for the first) failed at `now`. `random` in [0, 1). */
export function afterFailure(input: { attempts: number; createdAt: number; now: number; random: number }, policy: RetryPolicy = DEFAULT_RETRY): RetryVerdict {
  if (input.attempts >= policy.maxAttempts) return { giveUp: `gave up after ${input.attempts} attempts` };
  const full = Math.min(policy.maxDelayMs, policy.firstDelayMs * 2 ** Math.min(input.attempts - 1, 30));
  const delay = Math.round(full / 2 + (full / 2) * input.random);
  if (input.now + delay - input.createdAt > policy.maxAgeMs) return { giveUp: `gave up after ${input.attempts} attempts over ${Math.round((input.now - input.createdAt) / 60_000)} min` };
  return { retryAt: input.now + delay };
}
