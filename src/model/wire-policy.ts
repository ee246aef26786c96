/**
 * Policy gates as the API sends them (`GET /v1/policies`, `GET /v1/apps/:app/policy-check`, `berth policy
 * list|check`). Standalone (only the schema builder): wire.ts re-exports it.
 */
import * as w from './wire-schema.ts';

export const PolicyMoment = w.described('deploy: before a deploy starts anything; canary_step: before each canary step; promote: before a canary is promoted', w.enumOf(['deploy', 'canary_step', 'promote']));

const source = w.object({
  file: w.described('policies/<file>.yaml (the server\'s, in the data directory) or berth.yaml (the app\'s serving release)', w.string()),
  line: w.described('the line of the policy\'s entry; null when unknown (berth.yaml)', w.nullable(w.integer())),
});

export const PolicyInfo = w.named(
  'Policy',
  w.object({
    name: w.string(),
    when: PolicyMoment,
    expr: w.described('the CEL expression; true = allowed', w.string()),
    message: w.string(),
    scope: w.described('server: DATA/policies; app: the app\'s berth.yaml', w.enumOf(['server', 'app'])),
    source,
  }),
);
export type PolicyInfo = w.Infer<typeof PolicyInfo>;

/** A policy that does not load: while any does, the gate refuses (it fails closed). */
export const PolicyProblemInfo = w.named(
  'PolicyProblem',
  w.object({
    file: w.string(),
    policy: w.described('the policy\'s name, or #N (its position); null for the file as a whole', w.nullable(w.string())),
    line: w.nullable(w.integer()),
    problem: w.string(),
  }),
);
export type PolicyProblemInfo = w.Infer<typeof PolicyProblemInfo>;

export const PolicyList = w.named(
  'PolicyList',
  w.object({
    app: w.described('the app whose policies are listed with the server\'s; null for the server\'s only', w.nullable(w.string())),
    policies: w.array(PolicyInfo),
    problems: w.array(PolicyProblemInfo),
  }),
);
export type PolicyList = w.Infer<typeof PolicyList>;

export const PolicyVerdict = w.named(
  'PolicyVerdict',
  w.object({
    policy: w.string(),
    when: PolicyMoment,
    allowed: w.boolean(),
    reason: w.described('`passed`, the policy\'s message, or why it failed (an error denies)', w.string()),
    source,
    facts: w.described('the facts the expression read (env var names only, never values)', w.record(w.unknown())),
  }),
);
export type PolicyVerdict = w.Infer<typeof PolicyVerdict>;

export const PolicyCheck = w.named(
  'PolicyCheck',
  w.object({
    app: w.string(),
    release: w.described('the serving release judged (v3)', w.string()),
    allowed: w.described('false when any policy denies or does not load', w.boolean()),
    verdicts: w.array(PolicyVerdict),
    problems: w.array(PolicyProblemInfo),
  }),
);
export type PolicyCheck = w.Infer<typeof PolicyCheck>;
