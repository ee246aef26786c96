/**
 * A canary rollout (deploy strategy `canary`, src/deploy/canary/) as the store keeps it and the API shows
 * it: the share of traffic the new release gets, the step it is at, and the last judgement with its
 * numbers. `berth status` prints it; `berth promote` / `berth abort` answer with it.
 */
import * as w from './wire-schema.ts';

export const ROLLOUT_STATES = ['running', 'promoting', 'aborting', 'promoted', 'aborted'] as const;
export type RolloutState = (typeof ROLLOUT_STATES)[number];
/** States in which the rollout still holds traffic (the route table's split is read from it). */
export const ACTIVE_ROLLOUT_STATES: readonly RolloutState[] = ['running', 'promoting', 'aborting'];

/** One side's numbers over the step's window, as the policies read them (latencies in ms, null without requests). */
export const CanaryFigures = w.object({
  requests: w.integer(),
  requestsPerSecond: w.number(),
  errorRate: w.described('5xx answers and proxy errors over requests, 0..1; null without requests', w.nullable(w.number())),
  p50: w.nullable(w.number()),
  p95: w.nullable(w.number()),
  p99: w.nullable(w.number()),
});
export type CanaryFigures = w.Infer<typeof CanaryFigures>;

/** One policy's verdict, short (the full one, with its facts, is the `policy.verdict` event). */
export const CanaryPolicyVerdict = w.object({ policy: w.string(), allowed: w.boolean(), reason: w.string() });
export type CanaryPolicyVerdict = w.Infer<typeof CanaryPolicyVerdict>;

/** A judgement of the canary: the moment, the outcome, the numbers it read and each policy's verdict. */
export const CanaryJudgement = w.named(
  'CanaryJudgement',
  w.object({
    at: w.dateTime(),
    moment: w.enumOf(['canary_step', 'promote']),
    allowed: w.boolean(),
    canary: CanaryFigures,
    stable: CanaryFigures,
    verdicts: w.array(CanaryPolicyVerdict),
  }),
);
export type CanaryJudgement = w.Infer<typeof CanaryJudgement>;

export const CanaryRollout = w.named(
  'CanaryRollout',
  w.object({
    deployment: w.string(),
    state: w.described('running: judged step by step; promoting: about to switch; aborting: traffic back on stable, canary stopping; promoted / aborted: over', w.enumOf(ROLLOUT_STATES)),
    canary: w.described('the new release (v5)', w.string()),
    stable: w.described('the release serving the rest (v4)', w.string()),
    percent: w.described('the share of clients sent to the canary now, 0..100', w.integer()),
    step: w.described('the step under way, from 1', w.integer()),
    steps: w.integer(),
    stepStartedAt: w.dateTime(),
    stepEndsAt: w.described('when the step may pass (with a passing verdict and enough requests)', w.dateTime()),
    last: w.described('the last judgement; null before the first', w.nullable(CanaryJudgement)),
    reason: w.described('why it was aborted or promoted early; null otherwise', w.nullable(w.string())),
  }),
);
export type CanaryRollout = w.Infer<typeof CanaryRollout>;

/** What `POST /v1/apps/:app/promote` and `/abort` answer. */
export const RolloutAnswer = w.object({
  app: w.string(),
  outcome: w.described('promoted: the canary is the current release; aborted: all traffic is back on stable and the deployment fails', w.enumOf(['promoted', 'aborted'])),
  message: w.string(),
  rollout: CanaryRollout,
});
export type RolloutAnswer = w.Infer<typeof RolloutAnswer>;
