import { StaleRouteTableError, type RouteTable } from '../dataplane/route-table.ts';
import type { ReleaseRecord } from '../model/records.ts';
import type { DeployContext } from './context.ts';
import { buildRouteTable, type AppRouting } from './desired-routes.ts';
import { chaosRule } from './chaos.ts';
import type { CanarySplit } from '../dataplane/route-table.ts';
import type { RolloutRecord } from '../store/rollouts.ts';

/**
 * Keeps the data plane's route table equal to what the store says. Publishes are serialized and
 * always send the whole table, with a generation that only grows (also across daemon restarts, since
 * it follows the clock), so the proxy can refuse a stale one.
 */
export class Routing {
  readonly #ctx: DeployContext;
  #generation = 0;
  #chain: Promise<void> = Promise.resolve();
  #last: RouteTable | null = null;
  /** Instances the proxy's current table sends new requests to. */
  #active = new Set<string>();

  constructor(ctx: DeployContext) {
    this.#ctx = ctx;
  }

  current(): RouteTable {
    const { store, clock } = this.#ctx;
    const apps: AppRouting[] = store.apps.list().map((app) => {
      const instances = store.instances.live(app.name);
      // Only the releases something points at: the current one and those of running instances.
      const releases = new Map<string, ReleaseRecord>();
      for (const id of [app.currentRelease, ...instances.map((i) => i.releaseId)]) {
        const release = id && !releases.has(id) ? store.releases.get(id) : undefined;
        if (release) releases.set(release.id, release);
      }
      const chaos = store.chaos.get(app.name);
      return {
        name: app.name,
        chaos: chaos ? chaosRule(chaos) : null,
        split: canarySplit(store.rollouts.active(app.name), releases),
        current: (app.currentRelease && releases.get(app.currentRelease)) || null,
        instances,
        releaseNames: new Map([...releases.values()].map((r) => [r.id, `v${r.version}`])),
      };
    });
    this.#generation = Math.max(this.#generation + 1, clock.now());
    return buildRouteTable(apps, this.#ctx.settings.baseDomain, this.#generation);
  }

  /** Computes the table from the store and pushes it; resolves once the proxy has it. */
  publish(): Promise<void> {
    const run = this.#chain.then(async () => {
      let table = this.current();
      try {
        await this.#ctx.dataplane.apply(table);
      } catch (error) {
        if (!(error instanceof StaleRouteTableError)) throw error;
        // The proxy holds a newer generation (an earlier daemon, or the clock went back): count on from it.
        this.#ctx.log.warn('proxy has a newer route table; continuing from its generation', { offered: error.offered, proxy: error.current });
        this.#generation = error.current;
        table = this.current();
        await this.#ctx.dataplane.apply(table);
      }
      this.#last = table;
      this.#active = new Set(Object.values(table.apps).flatMap((app) => app.targets.filter((t) => t.state === 'active').map((t) => t.id)));
    });
    this.#chain = run.catch((error) => this.#ctx.log.error('route table not published', { error: error as Error }));
    return run;
  }

  /**
   * The proxy has a table in which this instance gets no new requests (it drains there, or is not in
   * it), so "idle" in the proxy's stats means it is done. False before the first table went out.
   */
  proxyStoppedSending(instanceId: string): boolean {
    return this.#last !== null && !this.#active.has(instanceId);
  }

  /** The last table the proxy accepted (for diagnostics). */
  last(): RouteTable | null {
    return this.#last;
  }
}

/**
 * The split of the app's active rollout (the store is the truth: a restarted daemon, a promote or an
 * abort publish whatever is written there). Aborting: 0 %, all traffic on stable while the canary drains.
 */
function canarySplit(rollout: RolloutRecord | undefined, releases: Map<string, ReleaseRecord>): CanarySplit | null {
  if (!rollout) return null;
  const canary = releases.get(rollout.canaryReleaseId);
  if (!canary) return null;
  return { release: `v${canary.version}`, percent: rollout.state === 'aborting' ? 0 : rollout.percent, sticky: rollout.sticky };
}
