/**
 * The control API's JSON, defined once (docs/api.md, docs/openapi.json): each shape is a schema value
 * (for the OpenAPI document and the checks of real answers) and a type of the same name. The API's
 * views and endpoints return these types, the CLI reads answers as them: a field renamed here breaks
 * the build on both sides. Times are ISO 8601 strings in UTC.
 */
import { catalogue, type ErrorCode } from '../errors/catalogue.ts';
import { eventSchema } from './events.ts';
import type { CertificateRecord } from './records.ts';
import { DeploymentError, DeploymentKind, DeploymentState, InstanceRunState, InstanceState, ReleaseStatus } from './wire-records.ts';
import { HealthState } from './wire-health.ts';
import { ChaosState } from './wire-chaos.ts';
import { CanaryRollout } from './wire-rollout.ts';
import * as w from './wire-schema.ts';

export { DeploymentError, DeploymentKind, DeploymentState, InstanceRunState, InstanceState, ReleaseStatus };
export * from './wire-health.ts';
export * from './wire-audit.ts';
export * from './wire-logs.ts';
export * from './wire-metrics.ts';
export * from './wire-notify.ts';
export * from './wire-chaos.ts';
export * from './wire-rollout.ts';
export * from './wire-policy.ts';

const hostPort = w.object({ host: w.string(), port: w.integer() });

export const ReleaseRef = w.named('ReleaseRef', w.object({ id: w.string(), version: w.integer(), name: w.described('"v3"', w.string()) }));
export type ReleaseRef = w.Infer<typeof ReleaseRef>;

export const Instance = w.named(
  'Instance',
  w.object({
    id: w.string(),
    process: w.string(),
    ordinal: w.integer(),
    release: ReleaseRef,
    state: InstanceState,
    run: w.described('what the runtime says', InstanceRunState),
    address: w.nullable(w.string()),
    restarts: w.integer(),
    pid: w.optional(w.integer()),
    health: w.described('what the health monitor last found (`berth health`)', HealthState),
  }),
);
export type Instance = w.Infer<typeof Instance>;

export const AppStatus = w.enumOf(['new', 'deploying', 'running', 'degraded', 'failed']);
export type AppStatus = w.Infer<typeof AppStatus>;

/** An image berth keeps updated (`update:` in berth.yaml): what its last check found, what serves, what is skipped. */
export const ImageUpdate = w.named(
  'ImageUpdate',
  w.object({
    image: w.described('the image followed, as written in berth.yaml (`ghcr.io/acme/web:1.4`)', w.string()),
    service: w.described('the service whose image it is; null for the app\'s own image', w.nullable(w.string())),
    intervalMs: w.integer(),
    lastCheckAt: w.described('when the registry was last asked; null before the first check', w.nullable(w.dateTime())),
    lastError: w.described('why the last check failed; null when it answered', w.nullable(w.object({ code: w.string(), message: w.string() }))),
    serving: w.described('the digest serving now (`sha256:...`), when known', w.nullable(w.string())),
    pinned: w.described('a digest that failed and is skipped until the tag moves on', w.nullable(w.string())),
    trial: w.described(
      'an update under way: deploying `digest`, then on trial until `settlingUntil` (a crash loop or failing health checks before then revert it)',
      w.nullable(w.object({ digest: w.string(), deployment: w.string(), settlingUntil: w.nullable(w.dateTime()) })),
    ),
  }),
);
export type ImageUpdate = w.Infer<typeof ImageUpdate>;

export const App = w.named(
  'App',
  w.object({
    name: w.string(),
    createdAt: w.dateTime(),
    urls: w.described('http://<name>.<base domain>[:port] first, then the manifest\'s domains', w.array(w.string())),
    status: AppStatus,
    health: w.described('degraded while any serving instance of the current release is', HealthState),
    release: w.described('the release serving traffic', w.nullable(ReleaseRef)),
    deploying: w.nullable(w.object({ id: w.string(), state: DeploymentState })),
    instances: w.described('instances that are not stopped', w.array(Instance)),
    updates: w.described('the images berth keeps updated (`update:` in the serving release\'s berth.yaml)', w.array(ImageUpdate)),
    chaos: w.described('the outage simulated on its traffic (`berth chaos`); null: none', w.nullable(ChaosState)),
    canary: w.described('the canary rollout under way (deploy strategy `canary`); null: none', w.optional(w.nullable(CanaryRollout))),
  }),
);
export type App = w.Infer<typeof App>;

export const Release = w.named(
  'Release',
  w.object({
    id: w.string(),
    version: w.integer(),
    name: w.string(),
    description: w.string(),
    createdAt: w.dateTime(),
    status: ReleaseStatus,
    gitSha: w.described('the commit deployed, when the CLI found one (`-dirty` with local changes)', w.nullable(w.string())),
    image: w.described('an image app\'s image as this release runs it, pinned to its digest (`ghcr.io/acme/web@sha256:...`), or the id of a local image', w.nullable(w.string())),
    current: w.described('serving traffic now', w.boolean()),
    warm: w.described('instances still running in standby: a rollback to it is instant', w.boolean()),
    rollbackable: w.boolean(),
  }),
);
export type Release = w.Infer<typeof Release>;

export const Deployment = w.named(
  'Deployment',
  w.object({
    id: w.string(),
    app: w.string(),
    kind: DeploymentKind,
    state: DeploymentState,
    release: w.nullable(ReleaseRef),
    previousRelease: w.nullable(ReleaseRef),
    createdAt: w.dateTime(),
    finishedAt: w.nullable(w.dateTime()),
    urls: w.array(w.string()),
    error: w.nullable(DeploymentError),
  }),
);
export type Deployment = w.Infer<typeof Deployment>;

/** An event as the API sends it: where and when, then the event itself (../model/events.ts). */
export const ApiEvent = w.named('Event', eventSchema({ seq: w.integer(), at: w.dateTime(), app: w.nullable(w.string()), deploymentId: w.nullable(w.string()) }));
export type ApiEvent = w.Infer<typeof ApiEvent>;

export const LogLine = w.named(
  'LogLine',
  w.object({
    ts: w.dateTime(),
    stream: w.enumOf(['stdout', 'stderr']),
    line: w.string(),
    instance: w.string(),
    process: w.string(),
    release: w.described('the release name (v3)', w.string()),
  }),
);
export type LogLine = w.Infer<typeof LogLine>;

export const EnvVar = w.named(
  'EnvVar',
  w.object({
    name: w.string(),
    updatedAt: w.dateTime(),
    serving: w.described('false when the serving release does not run with this value (a failed rollout, a rollback)', w.boolean()),
    value: w.described('only with ?reveal=1', w.optional(w.string())),
  }),
);
export type EnvVar = w.Infer<typeof EnvVar>;

export const EnvList = w.named(
  'EnvList',
  w.object({
    app: w.string(),
    release: w.described('the serving release\'s name, null before the first deploy', w.nullable(w.string())),
    vars: w.array(EnvVar),
    unsetButServed: w.described('names unset since the serving release was made, which it still runs with', w.array(w.string())),
  }),
);
export type EnvList = w.Infer<typeof EnvList>;

export const ServerInfo = w.named(
  'ServerInfo',
  w.object({ version: w.string(), driver: w.string(), baseDomain: w.string(), http: hostPort, api: hostPort, dataDir: w.string() }),
);
export type ServerInfo = w.Infer<typeof ServerInfo>;

export const Doctor = w.named(
  'Doctor',
  w.object({
    version: w.string(),
    node: w.string(),
    runtime: w.object({
      driver: w.string(),
      reason: w.described('why berth chose this runtime', w.string()),
      // The engine's own answer to GET /version, as it gave it.
      engine: w.optional(w.openObject({ Version: w.string(), ApiVersion: w.string() })),
      engineApiVersion: w.optional(w.string()),
    }),
    dataDir: w.string(),
    disk: w.object({ freeBytes: w.number(), totalBytes: w.number() }),
    proxy: w.union(
      w.object({ pid: w.integer(), version: w.string(), address: hostPort, generation: w.integer(), connections: w.integer() }),
      w.object({ error: w.described('why the proxy did not answer', w.string()) }),
    ),
    apps: w.integer(),
    warnings: w.described('what this setup does not protect against', w.array(w.string())),
  }),
);
export type Doctor = w.Infer<typeof Doctor>;

// The answers that wrap the shapes above.
export const AppList = w.object({ apps: w.array(App) });
export type AppList = w.Infer<typeof AppList>;
export const AppDestroyed = w.object({ destroyed: w.described('the app name', w.string()) });
export type AppDestroyed = w.Infer<typeof AppDestroyed>;
export const DeploymentList = w.object({ deployments: w.described('newest first', w.array(Deployment)) });
export type DeploymentList = w.Infer<typeof DeploymentList>;
export const DeploymentAccepted = w.object({ deployment: Deployment });
export type DeploymentAccepted = w.Infer<typeof DeploymentAccepted>;
export const EventList = w.object({ events: w.described('oldest first', w.array(ApiEvent)) });
export type EventList = w.Infer<typeof EventList>;
export const ReleaseList = w.object({ releases: w.described('newest first', w.array(Release)) });
export type ReleaseList = w.Infer<typeof ReleaseList>;
export const EnvChange = w.object({
  changed: w.array(w.string()),
  deployment: w.described('the rollout; null when the app has no release yet', w.nullable(Deployment)),
});
export type EnvChange = w.Infer<typeof EnvChange>;
export const ScaleAccepted = w.object({ formation: w.described('process: replicas, as set with scale', w.record(w.integer())), deployment: Deployment });
export type ScaleAccepted = w.Infer<typeof ScaleAccepted>;
export const LogLines = w.object({ lines: w.array(LogLine) });
export type LogLines = w.Infer<typeof LogLines>;
export const ShutdownAccepted = w.object({ stopping: w.boolean(), stopApps: w.boolean() });
export type ShutdownAccepted = w.Infer<typeof ShutdownAccepted>;

/** `berth run`: each line of output, then one exit. */
export const RunOutput = w.object({ stream: w.enumOf(['stdout', 'stderr']), line: w.string() });
export type RunOutput = w.Infer<typeof RunOutput>;
export const RunExit = w.object({
  exitCode: w.described('null when it was stopped or could not start', w.nullable(w.integer())),
  timedOut: w.boolean(),
  error: w.described('why it could not run or was stopped', w.optional(w.string())),
});
export type RunExit = w.Infer<typeof RunExit>;

/** `berth registry login|list|logout`: a registry login as the API shows it, never with its password. */
export const RegistryLogin = w.named(
  'RegistryLogin',
  w.object({
    host: w.described('the registry as image references name it: docker.io, ghcr.io, 127.0.0.1:5000', w.string()),
    username: w.string(),
    createdAt: w.dateTime(),
    updatedAt: w.dateTime(),
  }),
);
export type RegistryLogin = w.Infer<typeof RegistryLogin>;
export const RegistryLoginList = w.object({ registries: w.described('by host', w.array(RegistryLogin)) });
export type RegistryLoginList = w.Infer<typeof RegistryLoginList>;
export const RegistryLogout = w.object({ removed: w.described('the registry host whose login was deleted', w.string()) });
export type RegistryLogout = w.Infer<typeof RegistryLogout>;

/** `berth certs`: a TLS certificate berth serves, one per hostname, as the API shows it: never with its key, not even sealed. */
const certificateFields = {
  domain: w.described('the hostname: `shop.example.com`, or `*.example.com` for a wildcard', w.string()),
  source: w.described('acme: requested by berth for a domain an app lists; own: added with `berth certs add`', w.enumOfKeys<CertificateRecord['source']>({ acme: true, own: true })),
  app: w.described('the app whose `domains` lists the hostname; null when none does', w.nullable(w.string())),
  status: w.described('pending: not issued yet; issued: one is held and served; failed: the last try failed and none is held', w.enumOfKeys<CertificateRecord['status']>({ pending: true, issued: true, failed: true })),
  issuer: w.described('the issuer\'s common name (else its organisation)', w.nullable(w.string())),
  notBefore: w.nullable(w.dateTime()),
  notAfter: w.described('when the certificate held expires', w.nullable(w.dateTime())),
  renewAt: w.described('when berth renews it (ACME: two thirds of its life); null for an own certificate', w.nullable(w.dateTime())),
  lastError: w.described('why the last try failed (the certificate held, if any, keeps serving); null after a success', w.nullable(w.object({ code: w.string(), message: w.string() }))),
  attempts: w.described('failures in a row', w.integer()),
  nextAttemptAt: w.described('when berth tries again after a failure; null when nothing is due', w.nullable(w.dateTime())),
  createdAt: w.dateTime(),
  updatedAt: w.dateTime(),
} as const;
export const Certificate = w.named('Certificate', w.object(certificateFields));
export type Certificate = w.Infer<typeof Certificate>;
/** One certificate with its chain (`GET /v1/certs/:domain`). */
export const CertificateDetail = w.named(
  'CertificateDetail',
  w.object({ ...certificateFields, chain: w.described('the certificate chain served, as PEM, leaf first; null before one is issued', w.nullable(w.string())) }),
);
export type CertificateDetail = w.Infer<typeof CertificateDetail>;
export const CertificateList = w.object({ certificates: w.described('by domain', w.array(Certificate)) });
export type CertificateList = w.Infer<typeof CertificateList>;
export const CertificateAdded = w.object({
  certificate: Certificate,
  replaced: w.described('whose certificate for the domain this one replaced; null when it had none', w.nullable(w.enumOfKeys<CertificateRecord['source']>({ acme: true, own: true }))),
});
export type CertificateAdded = w.Infer<typeof CertificateAdded>;
export const CertificateRemoved = w.object({
  removed: w.described('the hostname whose certificate was deleted', w.string()),
  source: w.enumOfKeys<CertificateRecord['source']>({ acme: true, own: true }),
  listedBy: w.described('the app whose `domains` still lists the hostname; null when none does', w.nullable(w.string())),
  acme: w.described('berth now requests a certificate for the hostname from ACME (an app lists it, it is no wildcard, and no own certificate covers it)', w.boolean()),
});
export type CertificateRemoved = w.Infer<typeof CertificateRemoved>;

/** This API as an OpenAPI 3.1 document (only its outline is checked here: it is JSON Schema's to say the rest). */
export const OpenApiDocument = w.openObject({ openapi: w.string(), info: w.openObject({ title: w.string(), version: w.string() }), paths: w.record(w.unknown()) });
export type OpenApiDocument = w.Infer<typeof OpenApiDocument>;

/** Every error answer: a code of the catalogue (src/errors/catalogue.ts), what went wrong, what to do. */
export const ApiError = w.named(
  'Error',
  w.object({
    error: w.object({
      code: w.enumOf(Object.keys(catalogue) as ErrorCode[]),
      message: w.string(),
      hint: w.optional(w.string()),
      details: w.described('e.g. `issues`: [{ path, message, fix }]', w.optional(w.record(w.unknown()))),
    }),
  }),
);
export type ApiError = w.Infer<typeof ApiError>;
