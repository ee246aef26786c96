import type { InstanceRecord } from '../model/records.ts';
import type { DeployContext } from './context.ts';
import { emit } from './emit.ts';
import type { Routing } from './route-publisher.ts';

/**
 * The loop that finishes what a switch starts, from persisted state only (so it resumes after a
 * restart): draining instances become standby once the proxy reports them idle or their drain time is
 * up; standby instances stop when their time is up or a newer release takes the standby place;
 * stopping instances are stopped; deployments whose old release has drained are marked succeeded.
 */
export class Reconciler {
  readonly #ctx: DeployContext;
  readonly #routing: Routing;
  /** Stops in flight, by instance id. */
  readonly #stopping = new Map<string, Promise<void>>();
  /** Deployments known to have rolled (`#rolled`), by id. */
  readonly #rolledCache = new Map<string, boolean>();
  #timer: NodeJS.Timeout | null = null;
  #busy: Promise<void> | null = null;
  #again = false;

  constructor(ctx: DeployContext, routing: Routing) {
    this.#ctx = ctx;
    this.#routing = routing;
  }

  start(everyMs = 250): void {
    this.#timer = setInterval(() => void this.tick(), everyMs);
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    await this.#busy;
    await Promise.allSettled(this.#stopping.values());
  }

  /** One pass; concurrent calls coalesce into one more pass after the current one. */
  tick(): Promise<void> {
    if (this.#busy) {
      this.#again = true;
      return this.#busy;
    }
    this.#busy = (async () => {
      try {
        do {
          this.#again = false;
          await this.#pass();
        } while (this.#again);
      } catch (error) {
        this.#ctx.log.error('reconcile pass failed', { error: error as Error });
      } finally {
        this.#busy = null;
      }
    })();
    return this.#busy;
  }

  async #pass(): Promise<void> {
    const { store, clock } = this.#ctx;
    const now = clock.now();
    let routesChanged = false;
    const live = store.instances.live();
    const standbyReleases = new Map<string, string | null>();
    const standbyRelease = (app: string) => {
      if (!standbyReleases.has(app)) standbyReleases.set(app, this.#standbyRelease(app));
      return standbyReleases.get(app)!;
    };

    // A deployment under way may be reusing its release's warm instances (a rollback): they are its, not ours
    // to retire. Not those it started itself: a rolling deploy's rollback drains them, and they must stop.
    const claimedBy = new Map(store.deployments.unfinished().filter((d) => d.state !== 'draining' && d.releaseId !== null).map((d) => [d.releaseId!, d.id]));
    const claimed = { has: (i: InstanceRecord) => claimedBy.has(i.releaseId) && claimedBy.get(i.releaseId) !== i.deploymentId };
    const draining = live.filter((i) => i.state === 'draining' && !claimed.has(i));
    if (draining.length > 0) {
      const stats = await this.#ctx.dataplane.stats().catch(() => null);
      for (const instance of draining) {
        const target = stats?.targets[instance.id];
        // Only trust "idle" from a proxy that already has the table in which this instance drains.
        const told = this.#routing.proxyStoppedSending(instance.id);
        const idle = told && stats !== null && (target === undefined || (target.inflight === 0 && target.websockets === 0));
        if (idle || now >= (instance.stateUntil ?? 0)) {
          this.#retire(instance, now, standbyRelease(instance.app));
          routesChanged = true;
        }
      }
    }

    // At most one standby release per app: the one the last switch replaced. Others stop, as do expired ones.
    // (Read again: the drains above moved instances.)
    for (const instance of draining.length > 0 ? store.instances.live() : live) {
      if (instance.state !== 'standby' || claimed.has(instance)) continue;
      if (instance.releaseId !== standbyRelease(instance.app) || now >= (instance.stateUntil ?? 0)) {
        store.instances.move(instance.id, 'stopping', now);
      }
    }

    for (const instance of store.instances.live().filter((i) => i.state === 'stopping')) this.#stopInBackground(instance);

    for (const deployment of store.deployments.unfinished().filter((d) => d.state === 'draining')) {
      const stillDraining = store.instances.live(deployment.app).some((i) => i.state === 'draining' && i.updatedAt <= deployment.updatedAt);
      if (!stillDraining) {
        store.transaction(() => {
          store.deployments.move(deployment.id, 'succeeded', now);
          emit(this.#ctx, { app: deployment.app, deploymentId: deployment.id }, { type: 'deploy.succeeded', message: 'the old release has drained' });
        });
      }
    }
    if (routesChanged) await this.#routing.publish().catch(() => {});
  }

  /**
   * The release the app's last switch replaced: the only one kept warm for an instant rollback. None after a
   * rolling deploy: it replaced instances to stay within `max_surge`, keeping the old ones would undo that.
   */
  #standbyRelease(app: string): string | null {
    const last = this.#ctx.store.deployments.listByApp(app, 20).find((d) => d.state === 'draining' || d.state === 'succeeded');
    if (!last || this.#rolled(last.id)) return null;
    return last.previousReleaseId;
  }

  /** Whether a deployment replaced its instances in batches (it has `deploy.batch` events); remembered, it never changes once switched. */
  #rolled(deploymentId: string): boolean {
    let rolled = this.#rolledCache.get(deploymentId);
    if (rolled === undefined) {
      rolled = this.#ctx.store.events.forDeployment(deploymentId).some((e) => e.type === 'deploy.batch');
      if (this.#rolledCache.size >= 1000) this.#rolledCache.clear();
      this.#rolledCache.set(deploymentId, rolled);
    }
    return rolled;
  }

  /** draining -> standby (kept warm for an instant rollback) or, when not wanted as standby, stopping. */
  #retire(instance: InstanceRecord, now: number, standbyRelease: string | null): void {
    const { store } = this.#ctx;
    const standbyMs = store.releases.get(instance.releaseId)?.manifest.deploy.standbyMs ?? 0;
    // Only web instances wait in standby: an old worker kept running would go on taking jobs with old code.
    if (standbyMs > 0 && instance.process === 'web' && instance.releaseId === standbyRelease) {
      store.instances.move(instance.id, 'standby', now, { stateUntil: now + standbyMs });
    } else store.instances.move(instance.id, 'stopping', now);
  }

  #stopInBackground(instance: InstanceRecord): void {
    if (this.#stopping.has(instance.id)) return;
    const { store, clock, driver, log } = this.#ctx;
    const stopping = driver
      .stop(instance.id)
      .then(() => {
        const current = store.instances.get(instance.id);
        if (current?.state === 'stopping') store.instances.move(instance.id, 'stopped', clock.now());
      })
      .catch((error) => log.error('stopping an instance failed', { instance: instance.id, error: error as Error }))
      .finally(() => this.#stopping.delete(instance.id));
    this.#stopping.set(instance.id, stopping);
  }
}
