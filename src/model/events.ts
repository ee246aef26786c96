/**
 * Every event berth records, as one union on `type` with each type's own `data`: the deploy machinery
 * writes them (`deploy/emit.ts` takes a BerthEvent), the API sends them (`ApiEvent` in ./wire.ts), the
 * CLI narrows on `type` to read them. The events table stores type, message and data as JSON.
 */
import { DeploymentError, DeploymentKind, DeploymentState } from './wire-records.ts';
import { CanaryFigures, CanaryPolicyVerdict } from './wire-rollout.ts';
import * as w from './wire-schema.ts';

const instance = w.described('the instance id', w.string());
/** How an instance's process ended, as the runtime saw it. */
const exit = w.object({
  code: w.nullable(w.integer()),
  signal: w.nullable(w.string()),
  at: w.described('epoch milliseconds', w.number()),
  oom: w.optional(w.boolean()),
});

/** The image an auto-update follows, as written (`ghcr.io/acme/web:1.4`), and whose it is. */
const followedImage = w.described('the image followed, as written in berth.yaml', w.string());
const updatedService = w.described('the service whose image it is; null for the app\'s own image', w.nullable(w.string()));
/** A check of the pipeline, as `checks[].name` in berth.yaml names it, and when it runs. */
const checkName = w.described('the check, as `checks[].name` in berth.yaml names it', w.string());
const checkWhen = w.described('build: before the release is recorded; switch: before traffic moves to the new instances', w.enumOf(['build', 'switch']));
/** A hostname a certificate is for, as `domains:` lists it. */
const certDomain = w.described('the hostname, as `domains` in berth.yaml lists it', w.string());

/** Each event type and its data: `null` for an event that is only its message (a line of output). */
export const EVENT_DATA = {
  // A deployment's events, in the order they come.
  'deploy.queued': w.object({ kind: DeploymentKind }),
  'deploy.state': w.object({ state: DeploymentState }),
  'build.log': null,
  // An image pulled for the deployment (an image app's, a service's): at most once a second, then done.
  'image.pull': w.object({
    image: w.described('the image as written in berth.yaml', w.string()),
    doneBytes: w.integer(),
    totalBytes: w.integer(),
    layers: w.integer(),
    layersDone: w.integer(),
    done: w.boolean(),
  }),
  'service.ensured': w.object({ service: w.string(), changed: w.boolean() }),
  'service.ready': w.object({ service: w.string() }),
  'release.log': null,
  'release.done': null,
  // The check pipeline (deploy/checks.ts, berth.yaml `checks:`): each check's start, output lines, result.
  'check.started': w.object({ check: checkName, when: checkWhen, command: w.string() }),
  'check.log': w.object({ check: checkName, stream: w.enumOf(['stdout', 'stderr']) }),
  'check.passed': w.object({ check: checkName, when: checkWhen, durationMs: w.integer(), exitCode: w.integer() }),
  'check.failed': w.object({
    check: checkName,
    when: checkWhen,
    durationMs: w.integer(),
    exitCode: w.described('null when it was stopped (timeout) or could not run', w.nullable(w.integer())),
    reason: w.described('what went wrong: `exited with code 1`, the timeout, or why it could not run', w.string()),
  }),
  // `berth deploy --skip-checks`: none of the checks ran; the audit report lists it.
  'checks.skipped': w.object({ checks: w.described('the checks berth.yaml lists that did not run', w.array(checkName)) }),
  'instance.started': w.object({ instance, process: w.string(), address: w.nullable(w.string()) }),
  'health.probe': w.object({ instance, ok: w.boolean(), status: w.optional(w.integer()), error: w.optional(w.string()), consecutive: w.integer() }),
  // strategy `rolling`: one batch of a process replaced (started, gated, serving; old ones retired).
  'deploy.batch': w.object({
    process: w.string(),
    batch: w.described('1-based, in the process\'s plan', w.integer()),
    of: w.described('the batches of the process\'s plan', w.integer()),
    started: w.described('new instances started and serving', w.integer()),
    retired: w.described('old instances moved to draining', w.integer()),
    rollback: w.optional(w.described('a batch that puts the serving release back after a failure', w.boolean())),
  }),
  'deploy.switched': w.object({ release: w.described('the release id', w.string()), version: w.integer(), urls: w.array(w.string()) }),
  'deploy.succeeded': null,
  'deploy.failed': DeploymentError,
  // Without data when the daemon found it cut short at start-up (the message says so).
  'deploy.interrupted': w.optional(DeploymentError),
  // An app's events outside any deployment.
  'app.created': null,
  'app.scaled': w.object({ formation: w.record(w.integer()) }),
  'app.destroyed': w.object({ instances: w.integer() }),
  'env.changed': w.object({ names: w.array(w.string()) }),
  'release.pruned': w.object({ release: w.string() }),
  'run.started': w.object({ run: w.string(), release: w.described('the release name (v3)', w.string()) }),
  'run.finished': w.object({ run: w.string(), exitCode: w.nullable(w.integer()), timedOut: w.boolean(), error: w.optional(w.string()) }),
  'instance.exited': w.object({ instance, exit, restarts: w.integer() }),
  'instance.restarted': w.object({ instance, address: w.nullable(w.string()), restarts: w.integer() }),
  'instance.crashloop': w.object({ instance, exit, restarts: w.integer() }),
  'instance.unhealthy': w.object({ instance, detail: w.string() }),
  'instance.healthy': w.object({ instance }),
  // The app's health (health/monitor.ts): degraded while any serving instance of its current release failed
  // 3 checks in a row and has not passed one since; recovered when none is any more (or none serves).
  'app.degraded': w.object({ release: w.described('the release name (v3)', w.string()), instances: w.described('the degraded instances', w.array(instance)) }),
  // berth chaos (deploy/chaos.ts): a simulated outage on the app's traffic, in the proxy.
  'chaos.on': w.object({
    mode: w.enumOf(['slow', 'error']),
    latencyMs: w.nullable(w.integer()),
    status: w.nullable(w.integer()),
    ratio: w.nullable(w.number()),
    release: w.described('the release it acts on (v3); null: the whole app', w.nullable(w.string())),
    until: w.described('epoch milliseconds', w.number()),
  }),
  'chaos.off': w.object({ reason: w.enumOf(['asked', 'expired', 'app destroyed']) }),
  'app.recovered': w.object({ release: w.described('the release name (v3) serving now; null when none is', w.nullable(w.string())) }),
  // Auto-update (deploy/image-updater.ts): a check that finds nothing new is kept in the updater's state
  // (`berth status`), not here; one every few seconds would drown the log.
  'image.update.found': w.object({ image: followedImage, service: updatedService, digest: w.string(), serving: w.described('the digest serving until now, when known', w.nullable(w.string())), deployment: w.described('the update deployment', w.string()) }),
  'image.update.pinned': w.object({ image: followedImage, service: updatedService, digest: w.described('the digest skipped until the tag moves on', w.string()), reason: w.string() }),
  'image.update.reverted': w.object({ image: followedImage, service: updatedService, digest: w.string(), release: w.described('the release name gone back to (v3)', w.string()), deployment: w.described('the rollback deployment', w.string()), reason: w.string() }),
  'image.check.failed': w.object({ image: followedImage, service: updatedService, code: w.string(), error: w.string() }),
  // Certificates from ACME (certs/manager.ts), on the app whose `domains` lists the domain. Never a key.
  'cert.requested': w.object({ domain: certDomain, reason: w.described('new: the first certificate; renewal: the one held reaches two thirds of its life; retry: after a failure', w.enumOf(['new', 'renewal', 'retry'])) }),
  'cert.issued': w.object({ domain: certDomain, issuer: w.string(), notAfter: w.described('epoch milliseconds', w.number()), serial: w.string() }),
  'cert.renewed': w.object({ domain: certDomain, issuer: w.string(), notAfter: w.described('epoch milliseconds', w.number()), serial: w.string() }),
  'cert.failed': w.object({
    domain: certDomain,
    code: w.described('the catalogue code: ACME_DNS, ACME_UNREACHABLE, ACME_RATE_LIMITED, ACME_REFUSED, ACME_CA_UNREACHABLE or ACME_WILDCARD', w.string()),
    error: w.string(),
    nextAttemptAt: w.described('when berth tries again (epoch milliseconds); null when it waits for something else (a wildcard waits for an own certificate)', w.nullable(w.number())),
  }),
  // A policy judged (src/policy): the facts it read, never an env value. A deny also writes policy.violation.
  'policy.verdict': w.object({
    policy: w.string(),
    when: w.enumOf(['deploy', 'canary_step', 'promote']),
    allowed: w.boolean(),
    reason: w.string(),
    source: w.described('where the policy is written: policies/<file>.yaml:<line> or berth.yaml', w.string()),
    facts: w.described('the facts the expression read, by name (env var names only)', w.record(w.unknown())),
  }),
  // A rule of a policy broken (src/policy, at a deploy; the canary's later); the audit report lists them (src/audit/report.ts).
  'policy.violation': w.object({ check: w.described('the rule that was broken', w.string()), reason: w.string(), deployment: w.optional(w.described('the deployment it concerns', w.string())) }),
  // A canary rollout (deploy/canary/): each step's share, each judgement with its numbers, how it ended.
  'canary.step': w.object({
    canary: w.described('the new release (v5)', w.string()),
    stable: w.described('the release serving the rest (v4)', w.string()),
    step: w.described('from 1', w.integer()),
    steps: w.integer(),
    percent: w.integer(),
    durationMs: w.integer(),
  }),
  'canary.verdict': w.object({
    canary: w.string(),
    step: w.integer(),
    steps: w.integer(),
    moment: w.enumOf(['canary_step', 'promote']),
    allowed: w.boolean(),
    canaryFigures: w.described('the canary\'s numbers over the step\'s window', CanaryFigures),
    stableFigures: w.described('the stable release\'s numbers over the same window', CanaryFigures),
    policies: w.array(CanaryPolicyVerdict),
  }),
  'canary.promoted': w.object({ canary: w.string(), stable: w.string(), by: w.described('analysis: every step passed; otherwise who asked (`berth promote`)', w.string()) }),
  'canary.aborted': w.object({
    canary: w.string(),
    stable: w.string(),
    code: w.described('CANARY_FAILED, CANARY_INCONCLUSIVE or CANARY_ABORTED', w.string()),
    reason: w.string(),
    by: w.described('analysis, recovery, or who asked (`berth abort`)', w.string()),
  }),
} as const satisfies Readonly<Record<string, w.Schema | null>>;

type EventData = typeof EVENT_DATA;
export type EventType = keyof EventData;
export const EVENT_TYPES = Object.keys(EVENT_DATA) as EventType[];

type DataField<S> = S extends null ? {} : S extends w.OptionalSchema<infer I> ? { data?: w.Infer<I> } : { data: w.Infer<S> };
type Flatten<T> = { [K in keyof T]: T[K] } & {};

/** The event of one type: its message and, for most types, its data. */
export type EventOf<T extends EventType> = Flatten<{ type: T; message: string } & DataField<EventData[T]>>;
export type BerthEvent = { [T in EventType]: EventOf<T> }[EventType];

/** The events with the fields of `envelope` first (the API's seq, time, app and deployment). */
export type EventWith<F> = { [T in EventType]: Flatten<w.ObjectOf<F> & EventOf<T>> }[EventType];

/** Each event type as `envelope` + type, message and data; a schema for the union of them all. */
export function eventSchema<const F extends w.Fields>(envelope: F): w.Schema<EventWith<F>> {
  const members = EVENT_TYPES.map((type) => {
    const data: w.Schema | null = EVENT_DATA[type];
    return w.object({ ...envelope, type: w.literal(type), message: w.string(), ...(data ? { data } : {}) });
  });
  // The members are built from EVENT_DATA as the type above is: the one cast between them.
  return w.union(...members) as w.Schema as w.Schema<EventWith<F>>;
}

/**
 * A stored event back as the union. The events table holds only what `emit` wrote, so its type and data
 * agree; data is absent (not null) for the events that have none, as the API has always sent them.
 */
export function storedEvent(record: { type: string; message: string; data: Record<string, unknown> | null }): BerthEvent {
  const event = record.data ? { type: record.type, message: record.message, data: record.data } : { type: record.type, message: record.message };
  return event as BerthEvent;
}
