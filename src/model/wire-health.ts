/**
 * Health history as the API sends it (`GET /v1/apps/:app/health`, `berth health`), and the health state
 * an instance and an app carry in the App and Instance shapes of ./wire.ts. Standalone (only the schema
 * builder): wire.ts imports it and re-exports it.
 */
import * as w from './wire-schema.ts';

/**
 * `unknown`: not checked since it started serving; `healthy`: its last check passed (or it failed fewer
 * than 3 in a row since); `degraded`: it failed 3 checks in a row and has not passed one since.
 */
export const HealthState = w.described(
  'unknown: no check yet; healthy: the last check passed, or fewer than 3 failed in a row since; degraded: 3 checks failed in a row and none passed since',
  w.enumOf(['unknown', 'healthy', 'degraded']),
);
export type HealthState = w.Infer<typeof HealthState>;

/** One check the health monitor made of a serving instance. */
export const HealthCheck = w.named(
  'HealthCheck',
  w.object({
    at: w.dateTime(),
    ok: w.boolean(),
    status: w.described('the HTTP status a web instance answered; null for other checks and for no answer', w.nullable(w.integer())),
    latencyMs: w.integer(),
    detail: w.described('why it failed (at most 500 characters, the app\'s secrets masked); null when it passed', w.nullable(w.string())),
  }),
);
export type HealthCheck = w.Infer<typeof HealthCheck>;

export const InstanceHealth = w.named(
  'InstanceHealth',
  w.object({
    instance: w.described('the instance id', w.string()),
    process: w.string(),
    ordinal: w.integer(),
    release: w.described('the release name (v3)', w.string()),
    state: HealthState,
    consecutiveFailures: w.described('checks failed in a row since the last one that passed', w.integer()),
    checks: w.described('the latest checks, newest first', w.array(HealthCheck)),
  }),
);
export type InstanceHealth = w.Infer<typeof InstanceHealth>;

export const AppHealth = w.named(
  'AppHealth',
  w.object({
    app: w.string(),
    state: w.described('degraded while any serving instance of the current release is degraded', HealthState),
    instances: w.described('the serving instances of the current release', w.array(InstanceHealth)),
  }),
);
export type AppHealth = w.Infer<typeof AppHealth>;
