/**
 * Auto-update (`update:` in berth.yaml, for an image app's `image` and per service): every `interval` the
 * updater asks the registry which digest the followed tag names now (a HEAD of the manifest, nothing
 * pulled, with the stored login). A digest neither serving nor pinned starts an ordinary deploy of kind
 * `update` through the Deployer (one deployment per app: a deploy already running means the next interval),
 * pulling exactly that digest. The update is then on trial: a failed deploy pins the digest (the old release
 * never stopped serving); after the switch, a crash loop or failed health checks of the new release within
 * `settle` roll back to the release it replaced (an ordinary rollback deployment) and pin the digest. A
 * pinned digest is skipped until the tag names another.
 *
 * The decisions are ./update-policy.ts (pure); this class reads the store and the registry and carries them
 * out. Its state is in the store (store/image-updates.ts), so a restarted daemon resumes a settle window.
 * Checks that find nothing new only update that state (`berth status`); found updates, reverts, pins and
 * failing checks are events.
 */
import { fail, isBerthError } from '../errors/catalogue.ts';
import type { Clock } from '../lib/clock.ts';
import { checkReference, formatReference, nameOf } from '../lib/image-reference.ts';
import type { AppRecord, InstanceRecord, ReleaseRecord } from '../model/records.ts';
import { credentialLookup, credentialsFor } from '../registry/credentials.ts';
import { parseReference, pinReference } from '../registry/reference.ts';
import type { ImageUpdateRecord } from '../store/image-updates.ts';
import type { DeployContext } from './context.ts';
import type { Deployer } from './deployer.ts';
import { emit } from './emit.ts';
import { rollbackRefusal } from './rollback.ts';
import { afterCheck, checkDue, freshState, judgeTrial, shortDigest, trialStarted, type RegistryAnswer, type TrialView, type UpdateTiming } from './update-policy.ts';

/** An image the serving release follows: its own (`service` null) or a service's. */
export interface FollowedImage {
  service: string | null;
  image: string;
  timing: UpdateTiming;
}

/** The images a release follows, from its berth.yaml: the app's `image` with `update`, then each service with `update`. */
export function followedImages(release: ReleaseRecord): FollowedImage[] {
  const manifest = release.manifest;
  const out: FollowedImage[] = [];
  if (manifest.image !== undefined && manifest.update !== undefined) out.push({ service: null, image: manifest.image, timing: manifest.update });
  for (const [name, spec] of Object.entries(manifest.services ?? {})) {
    if (spec.update !== undefined) out.push({ service: name, image: spec.image, timing: spec.update });
  }
  return out;
}

const TROUBLE = ['instance.crashloop', 'instance.unhealthy'] as const;
const digestOf = (pinned: string): string | null => (pinned.includes('@') ? pinned.slice(pinned.lastIndexOf('@') + 1) : null);

export interface ImageUpdaterOptions {
  ctx: DeployContext;
  deployer: Pick<Deployer, 'start'>;
  /** Time for the updater's decisions (tests pass a ManualClock); the context's clock by default. */
  clock?: Clock;
  /** A check that gets no answer within this long fails with REGISTRY_UNREACHABLE (the client also bounds each exchange). */
  checkTimeoutMs?: number;
}

export class ImageUpdater {
  readonly #ctx: DeployContext;
  readonly #deployer: Pick<Deployer, 'start'>;
  readonly #clock: Clock;
  readonly #checkTimeoutMs: number;
  /** Work under way, by app: each app's checks run on their own, so a registry that hangs holds up no other app. */
  readonly #inFlight = new Map<string, Promise<void>>();
  readonly #stopping = new AbortController();
  #timer: NodeJS.Timeout | null = null;

  constructor(options: ImageUpdaterOptions) {
    this.#ctx = options.ctx;
    this.#deployer = options.deployer;
    this.#clock = options.clock ?? options.ctx.clock;
    this.#checkTimeoutMs = options.checkTimeoutMs ?? 30_000;
  }

  /** A pass every `everyMs` (cheap: store reads; the registry is asked only when a check is due), so a check comes at most that late. */
  start(everyMs = 250): void {
    this.#timer = setInterval(() => void this.tick(), everyMs);
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    this.#stopping.abort(new Error('the berth server is stopping'));
    await Promise.allSettled(this.#inFlight.values());
  }

  /** Starts the due work of every app that has none under way; resolves when all of it has settled. */
  tick(): Promise<void> {
    try {
      for (const app of this.#ctx.store.apps.list()) {
        if (this.#inFlight.has(app.name) || this.#stopping.signal.aborted) continue;
        const work = this.#pass(app)
          .catch((error) => this.#ctx.log.error('auto-update pass failed', { app: app.name, error: error as Error }))
          .finally(() => this.#inFlight.delete(app.name));
        this.#inFlight.set(app.name, work);
      }
    } catch (error) {
      this.#ctx.log.error('auto-update pass failed', { error: error as Error });
    }
    return Promise.allSettled(this.#inFlight.values()).then(() => {});
  }

  /**
   * The health monitor's question before it restarts an unhealthy instance: when its release is an update
   * on trial, the update is reverted at once instead (true), since a restart would take the instance off
   * its traffic first; the release it replaced is still warm. False leaves the restart to the monitor.
   */
  revertInstead(instance: InstanceRecord, detail: string): boolean {
    try {
      const { store } = this.#ctx;
      const release = store.apps.get(instance.app)?.currentRelease;
      const serving = release ? store.releases.get(release) : undefined;
      if (!serving || serving.id !== instance.releaseId) return false;
      for (const followed of followedImages(serving)) {
        const state = store.imageUpdates.get(instance.app, followed.service);
        const trouble = `${instance.process}.${instance.ordinal} failed its health checks (${detail})`;
        if (state?.trial && state.image === followed.image) return this.#judge(followed, state, trouble) === 'reverted';
      }
    } catch (error) {
      this.#ctx.log.error('auto-update revert failed', { app: instance.app, error: error as Error });
    }
    return false;
  }

  /** One app: its update on trial judged, or its due checks made (at most one update deploy started). */
  async #pass(app: AppRecord): Promise<void> {
    const { store } = this.#ctx;
    const release = app.currentRelease ? store.releases.get(app.currentRelease) : undefined;
    const followed = release ? followedImages(release) : [];
    store.imageUpdates.keepOnly(app.name, followed.map((f) => f.service));
    if (!release || followed.length === 0) return;
    const states = followed.map((f) => ({ followed: f, state: this.#load(app.name, f) }));
    // One update of an app at a time: while one is on trial, the app's other images wait.
    const onTrial = states.find((s) => s.state.trial !== null);
    if (onTrial) {
      this.#judge(onTrial.followed, onTrial.state);
      return;
    }
    for (const { followed: f, state } of states) {
      if (!checkDue(state, this.#clock.now())) continue;
      const serving = await this.#servingDigest(release, f);
      const answer = await this.#ask(f.image);
      // The app may have moved on while the registry answered (a deploy, a destroy): its next pass looks again.
      if (this.#stopping.signal.aborted || store.apps.get(app.name)?.currentRelease !== release.id) return;
      const verdict = afterCheck(state, { serving, answer, now: this.#clock.now(), timing: f.timing });
      if (verdict.do === 'deploy') {
        if (this.#startUpdate(release, f, verdict.state, verdict.digest)) return;
        continue;
      }
      store.imageUpdates.save(verdict.state);
      if (verdict.do === 'record-failure' && verdict.report) {
        const { code, message } = verdict.state.lastError!;
        this.#ctx.log.warn('auto-update check failed', { app: app.name, image: f.image, code });
        emit(this.#ctx, { app: app.name, deploymentId: null }, { type: 'image.check.failed', message: `checking ${f.image} for a new image failed: ${message}`, data: { image: f.image, service: f.service, code, error: message } });
      }
    }
  }

  /** The stored state of a followed image; a fresh one when there is none or the image as written changed. */
  #load(app: string, followed: FollowedImage): ImageUpdateRecord {
    const stored = this.#ctx.store.imageUpdates.get(app, followed.service);
    return stored && stored.image === followed.image ? stored : freshState({ app, service: followed.service, image: followed.image, now: this.#clock.now() });
  }

  /** The digest the release runs for this image: its build's (the app's), its pin (a service's), else what the engine has under the tag. */
  async #servingDigest(release: ReleaseRecord, followed: FollowedImage): Promise<string | null> {
    if (followed.service === null) {
      const build = this.#ctx.store.builds.get(release.buildId);
      return build?.image ? digestOf(build.artifact) : null;
    }
    const pinned = release.serviceImages?.[followed.service];
    if (pinned) return digestOf(pinned);
    const local = await this.#ctx.driver.images?.present(followed.image).catch(() => undefined);
    const name = nameOf(parseReference(followed.image));
    for (const repoDigest of local?.repoDigests ?? []) {
      const ref = checkReference(repoDigest);
      if (ref.ok && ref.reference.digest && nameOf(ref.reference) === name) return ref.reference.digest;
    }
    return null;
  }

  /** The registry's answer for the tag, bounded in time; a refusal or a failure as its catalogue code. */
  async #ask(image: string): Promise<RegistryAnswer> {
    const { store, sealer, registry } = this.#ctx;
    const ref = parseReference(image);
    const signal = AbortSignal.any([this.#stopping.signal, AbortSignal.timeout(this.#checkTimeoutMs)]);
    try {
      const credentials = credentialsFor(ref, credentialLookup(store.registryCredentials, sealer));
      return { digest: (await registry.resolveDigest(ref, { credentials, signal })).digest };
    } catch (error) {
      if (isBerthError(error)) return { error: { code: error.code, message: error.message } };
      if (!signal.aborted || this.#stopping.signal.aborted) throw error;
      const timeout = fail('REGISTRY_UNREACHABLE', { registry: ref.domain, reference: image, reason: `no answer within ${Math.round(this.#checkTimeoutMs / 1000)} s` });
      return { error: { code: timeout.code, message: timeout.message } };
    }
  }

  /** Starts the update deploy of `digest`; false when another deploy holds the app (the next interval tries again). */
  #startUpdate(release: ReleaseRecord, followed: FollowedImage, state: ImageUpdateRecord, digest: string): boolean {
    const { store } = this.#ctx;
    const app = release.app;
    const pinned = formatReference(pinReference(parseReference(followed.image), digest));
    const what = followed.service === null ? followed.image : `service ${followed.service} (${followed.image})`;
    let deployment;
    try {
      deployment = this.#deployer.start({ app, kind: 'update', description: `update ${what} to ${shortDigest(digest)}`, wait: false, update: { service: followed.service, pinned } });
    } catch (error) {
      if (!isBerthError(error) || error.code !== 'DEPLOY_IN_PROGRESS') throw error;
      store.imageUpdates.save(state);
      return false;
    }
    this.#ctx.log.info('auto-update found a new image', { app, image: followed.image, digest, deployment: deployment.id });
    store.transaction(() => {
      store.imageUpdates.save(trialStarted(state, digest, deployment.id, this.#clock.now()));
      emit(this.#ctx, { app, deploymentId: deployment.id }, {
        type: 'image.update.found',
        message: `${what} now names ${shortDigest(digest)}${state.servingDigest ? ` (serving ${shortDigest(state.servingDigest)})` : ''}: updating`,
        data: { image: followed.image, service: followed.service, digest, serving: state.servingDigest, deployment: deployment.id },
      });
    });
    return true;
  }

  /**
   * Judges the update on trial and carries the verdict out; 'reverted' when a rollback started. `reported`:
   * trouble of an instance of the release on trial, as the monitor reports it (not in the event log yet).
   */
  #judge(followed: FollowedImage, state: ImageUpdateRecord, reported?: string): 'reverted' | 'other' {
    const { store } = this.#ctx;
    const now = this.#clock.now();
    const trial = state.trial!;
    const deployment = store.deployments.get(trial.deploymentId);
    const switchedNow = deployment !== undefined && trial.until === null && (deployment.state === 'draining' || deployment.state === 'succeeded');
    const switchedEvent = switchedNow ? store.events.forDeployment(deployment.id).find((e) => e.type === 'deploy.switched') : undefined;
    const switched = switchedEvent ? { seq: switchedEvent.seq, at: switchedEvent.at } : undefined;
    const view: TrialView = {
      deployment: deployment && { state: deployment.state, errorCode: deployment.error?.code ?? null, errorMessage: deployment.error?.message ?? null, releaseId: deployment.releaseId },
      switched,
      currentRelease: store.apps.get(state.app)?.currentRelease ?? null,
      trouble: undefined,
    };
    const releaseId = trial.releaseId ?? (switchedNow ? deployment.releaseId : null);
    if (releaseId !== null) {
      const afterSeq = trial.switchedSeq ?? switched?.seq ?? 0;
      const until = trial.until ?? (switched?.at ?? now) + followed.timing.settleMs;
      view.trouble = (now <= until ? reported : undefined) ?? this.#trouble(state.app, releaseId, afterSeq, until);
    }
    const verdict = judgeTrial(state, view, now, followed.timing);
    const where = { app: state.app, deploymentId: null };
    switch (verdict.do) {
      case 'wait':
        if (verdict.state !== state) store.imageUpdates.save(verdict.state);
        return 'other';
      case 'settled':
        store.imageUpdates.save(verdict.state);
        this.#ctx.log.info('auto-update settled', { app: state.app, image: followed.image, digest: trial.digest });
        return 'other';
      case 'drop':
        store.imageUpdates.save(verdict.state);
        this.#ctx.log.warn('auto-update ended without a verdict on the image', { app: state.app, image: followed.image, reason: verdict.reason });
        return 'other';
      case 'pin':
        store.transaction(() => {
          store.imageUpdates.save(verdict.state);
          emit(this.#ctx, where, pinnedEvent(followed, verdict.digest, verdict.reason));
        });
        return 'other';
      case 'revert':
        return this.#revert(followed, verdict.state, verdict.digest, verdict.reason, deployment?.previousReleaseId ?? null) ? 'reverted' : 'other';
    }
  }

  /** The first crash loop or failed health checks of the release's instances after its switch, within the settle window. */
  #trouble(app: string, releaseId: string, afterSeq: number, until: number): string | undefined {
    const { store } = this.#ctx;
    const instances = new Map(store.instances.byRelease(releaseId).map((i) => [i.id, i]));
    for (const event of store.events.forAppOfTypes(app, TROUBLE, afterSeq, 500)) {
      const instance = instances.get(String(event.data?.instance));
      if (!instance || event.at > until) continue;
      const label = `${instance.process}.${instance.ordinal}`;
      return event.type === 'instance.crashloop' ? `${label} keeps crashing` : `${label} failed its health checks (${String(event.data?.detail ?? 'no detail')})`;
    }
    return undefined;
  }

  /** Rolls back to the release the update replaced and pins the digest; false when that cannot start now. */
  #revert(followed: FollowedImage, state: ImageUpdateRecord, digest: string, reason: string, previousId: string | null): boolean {
    const { store } = this.#ctx;
    const app = state.app;
    const current = store.apps.get(app)?.currentRelease ?? null;
    const target = previousId ? store.releases.get(previousId) : undefined;
    const refusal = target ? rollbackRefusal(target, store.builds.get(target.buildId), current) : 'the update replaced no release';
    if (refusal !== undefined) {
      // Nothing to go back to: the digest is still pinned (never tried again), and the status says why it still serves.
      const cannot = fail('RELEASE_NOT_ROLLBACKABLE', { app, release: target ? `v${target.version}` : 'the previous release', reason: refusal });
      store.transaction(() => {
        store.imageUpdates.save({ ...state, lastError: { code: cannot.code, message: cannot.message } });
        emit(this.#ctx, { app, deploymentId: null }, pinnedEvent(followed, digest, `${reason}; berth could not revert it: ${cannot.message}`));
      });
      return false;
    }
    let rollback;
    try {
      rollback = this.#deployer.start({ app, kind: 'rollback', description: `rollback to v${target!.version}: ${shortDigest(digest)} of ${followed.image} reverted (${reason})`, wait: false, target: target! });
    } catch (error) {
      // Another deploy holds the app: the trial stays, and the next pass tries again (or finds it replaced).
      if (isBerthError(error) && error.code === 'DEPLOY_IN_PROGRESS') return false;
      throw error;
    }
    this.#ctx.log.warn('auto-update reverted', { app, image: followed.image, digest, reason, deployment: rollback.id });
    store.transaction(() => {
      store.imageUpdates.save(state);
      emit(this.#ctx, { app, deploymentId: rollback.id }, {
        type: 'image.update.reverted',
        message: `${shortDigest(digest)} of ${followed.image}: ${reason}; going back to v${target!.version}`,
        data: { image: followed.image, service: followed.service, digest, release: `v${target!.version}`, deployment: rollback.id, reason },
      });
      emit(this.#ctx, { app, deploymentId: null }, pinnedEvent(followed, digest, reason));
    });
    return true;
  }
}

function pinnedEvent(followed: FollowedImage, digest: string, reason: string) {
  return {
    type: 'image.update.pinned' as const,
    message: `${shortDigest(digest)} of ${followed.image} is skipped until the tag names another image: ${reason}`,
    data: { image: followed.image, service: followed.service, digest, reason },
  };
}
