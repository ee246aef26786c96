import type { CertificateInfo } from '../deploy/certificates.ts';
import { httpsUrls, urlsFor } from '../deploy/desired-routes.ts';
import { followedImages } from '../deploy/image-updater.ts';
import { rollbackRefusal } from '../deploy/rollback.ts';
import { appHealth } from '../health/health-state.ts';
import type { InstanceInfo } from '../runtime/driver.ts';
import { storedEvent } from '../model/events.ts';
import type { AppRecord, DeploymentRecord, EventRecord, InstanceRecord, ReleaseRecord } from '../model/records.ts';
import type { ApiEvent, App, AppStatus, Certificate, CertificateDetail, Deployment, ImageUpdate, Instance, Release, ReleaseRef } from '../model/wire.ts';
import { showChaos } from '../deploy/chaos.ts';
import { chaosView } from './endpoints/chaos.ts';
import { appRolloutView } from './endpoints/rollouts.ts';
import type { ApiDeps } from './deps.ts';
import { pathRedactor, redactDeep } from './redact-paths.ts';

/** https:// for the hosts the proxy holds a valid certificate for, when HTTPS is on. */
const httpsUrlsOf = (deps: ApiDeps) => httpsUrls(deps.ctx.settings.https, deps.ctx.store.certificates.list(), deps.ctx.clock.now());

/** Records as the API shows them (docs/api.md, the shapes of ../model/wire.ts): ISO times, release names, nothing secret. */
const iso = (ms: number) => new Date(ms).toISOString();
const isoOrNull = (ms: number | null) => (ms === null ? null : iso(ms));

/** Server paths in recorded text (a failure's reason, build output) as the client sees them: `DATA/...`. */
const redacted = <T>(deps: ApiDeps, value: T): T => redactDeep(value, pathRedactor(deps.config.dataDir)) as T;

export const releaseRef = (release: ReleaseRecord | undefined): ReleaseRef | null => (release ? { id: release.id, version: release.version, name: `v${release.version}` } : null);

export function releaseView(deps: ApiDeps, release: ReleaseRecord, app: AppRecord): Release {
  const live = deps.ctx.store.instances.byRelease(release.id).filter((i) => i.state === 'standby' || i.state === 'draining');
  const build = deps.ctx.store.builds.get(release.buildId);
  const current = release.id === app.currentRelease;
  return {
    ...releaseRef(release)!,
    description: release.description,
    createdAt: iso(release.createdAt),
    status: release.status,
    gitSha: build?.gitSha ?? null,
    image: build?.image ? build.artifact : null,
    current,
    warm: live.length > 0,
    rollbackable: rollbackRefusal(release, build, app.currentRelease) === undefined,
  };
}

export function deploymentView(deps: ApiDeps, deployment: DeploymentRecord): Deployment {
  const { store } = deps.ctx;
  const release = deployment.releaseId ? store.releases.get(deployment.releaseId) : undefined;
  const previous = deployment.previousReleaseId ? store.releases.get(deployment.previousReleaseId) : undefined;
  return {
    id: deployment.id,
    app: deployment.app,
    kind: deployment.kind,
    state: deployment.state,
    release: releaseRef(release),
    previousRelease: releaseRef(previous),
    createdAt: iso(deployment.createdAt),
    finishedAt: isoOrNull(deployment.finishedAt),
    urls: urlsFor(deployment.app, release?.manifest ?? null, deps.config.baseDomain, deps.ctx.settings.http, httpsUrlsOf(deps)),
    error: redacted(deps, deployment.error),
  };
}

export function instanceView(deps: ApiDeps, instance: InstanceRecord, info: InstanceInfo | undefined): Instance {
  return {
    id: instance.id,
    process: instance.process,
    ordinal: instance.ordinal,
    // An instance's release row is never deleted while the instance is (only with the whole app).
    release: releaseRef(deps.ctx.store.releases.get(instance.releaseId))!,
    state: instance.state,
    run: info?.state ?? 'missing',
    address: instance.address,
    restarts: info?.restarts ?? 0,
    ...(info?.pid ? { pid: info.pid } : {}),
    health: deps.ctx.store.health.state(instance.id)?.state ?? 'unknown',
  };
}

export async function appView(deps: ApiDeps, app: AppRecord): Promise<App> {
  const { store, driver } = deps.ctx;
  const release = app.currentRelease ? store.releases.get(app.currentRelease) : undefined;
  const instances = store.instances.live(app.name);
  const infos = await Promise.all(instances.map((i) => driver.inspect(i.id).catch(() => undefined)));
  const holding = store.deployments.holding(app.name);
  const last = store.deployments.listByApp(app.name, 1)[0];
  const serving = instances.map((instance, i) => ({ instance, info: infos[i] })).filter((x) => x.instance.state === 'serving');
  let status: AppStatus;
  if (holding) status = 'deploying';
  else if (!release) status = last?.state === 'failed' || last?.state === 'interrupted' ? 'failed' : 'new';
  else status = serving.length > 0 && serving.every((x) => x.info?.state === 'running') ? 'running' : 'degraded';
  // Health as the monitor judges it (health/health-state.ts): the serving instances of the current release.
  const health = appHealth(serving.filter((x) => x.instance.releaseId === release?.id).map((x) => store.health.state(x.instance.id)?.state ?? 'unknown'));
  if (status === 'running' && health === 'degraded') status = 'degraded';
  return {
    name: app.name,
    createdAt: iso(app.createdAt),
    urls: urlsFor(app.name, release?.manifest ?? null, deps.config.baseDomain, deps.ctx.settings.http, httpsUrlsOf(deps)),
    status,
    health,
    release: releaseRef(release),
    deploying: holding ? { id: holding.id, state: holding.state } : null,
    instances: instances.map((instance, i) => instanceView(deps, instance, infos[i])),
    updates: release ? updatesView(deps, release) : [],
    chaos: chaosView(showChaos(deps.ctx, app.name)),
    canary: appRolloutView(deps.ctx, app.name),
  };
}

/** The images the serving release follows (`update:`), with what the auto-update last found (deploy/image-updater.ts). */
export function updatesView(deps: ApiDeps, release: ReleaseRecord): ImageUpdate[] {
  return followedImages(release).map((followed) => {
    const stored = deps.ctx.store.imageUpdates.get(release.app, followed.service);
    // A row for another image (the tag changed with a deploy) is the updater's to replace on its next pass.
    const state = stored?.image === followed.image ? stored : undefined;
    const trial = state?.trial;
    return {
      image: followed.image,
      service: followed.service,
      intervalMs: followed.timing.intervalMs,
      lastCheckAt: state?.lastCheckAt ? iso(state.lastCheckAt) : null,
      lastError: state?.lastError ? redacted(deps, state.lastError) : null,
      serving: state?.servingDigest ?? null,
      pinned: state?.pinnedDigest ?? null,
      trial: trial ? { digest: trial.digest, deployment: trial.deploymentId, settlingUntil: trial.until === null ? null : iso(trial.until) } : null,
    };
  });
}

/** Type, message and data as stored (data absent when there is none), with server paths as `DATA/...`. */
export const eventView = (deps: ApiDeps, event: EventRecord): ApiEvent => ({
  seq: event.seq,
  at: iso(event.at),
  app: event.app,
  deploymentId: event.deploymentId,
  ...redacted(deps, storedEvent(event)),
});

/** A certificate as `berth certs` lists it: never its key (CertificateInfo has none), nor its chain. */
export const certificateView = (deps: ApiDeps, cert: CertificateInfo): Certificate => ({
  domain: cert.domain,
  source: cert.source,
  app: cert.app,
  status: cert.status,
  issuer: cert.issuer,
  notBefore: isoOrNull(cert.notBefore),
  notAfter: isoOrNull(cert.notAfter),
  renewAt: isoOrNull(cert.renewAt),
  lastError: cert.lastError ? redacted(deps, { code: cert.lastError.code, message: cert.lastError.message }) : null,
  attempts: cert.attempts,
  nextAttemptAt: isoOrNull(cert.nextAttemptAt),
  createdAt: iso(cert.createdAt),
  updatedAt: iso(cert.updatedAt),
});

/** One certificate with its chain (`GET /v1/certs/:domain`). */
export const certificateDetailView = (deps: ApiDeps, cert: CertificateInfo): CertificateDetail => ({ ...certificateView(deps, cert), chain: cert.certPem });
