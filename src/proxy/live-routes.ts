import type { CanarySplit, ChaosRule, ReleaseStats, RouteTable, TargetStats } from '../dataplane/route-table.ts';
import { pickEvenly, pickWeighted } from './balancer.ts';
import { ReleaseBook } from './releases.ts';
import type { ReleaseCounters } from './stats.ts';
import { TargetRuntime } from './target.ts';
import type { PoolOptions } from './upstream.ts';

export interface AppRuntime {
  name: string;
  /** Every target of the app, draining ones included; only active ones get new requests. */
  targets: TargetRuntime[];
  drainTimeoutMs: number;
  /** The route's HTTPS behaviour (dataplane/route-table.ts `AppRoute.https`), defaults filled in. */
  https: { redirect: boolean; hsts: string | null };
  /** The app's simulated outage (`AppRoute.chaos`, proxy/chaos.ts); null (or absent): none, the usual case. */
  chaos?: ChaosRule | null;
  /** The app's canary split (`AppRoute.split`, proxy/split.ts) with its targets sorted by side; null: none. */
  split?: LiveSplit | null;
}

/** A canary split as the proxy lives it: the route's split, and the app's targets by side (each in table order). */
export interface LiveSplit extends CanarySplit {
  /** The targets of the split's release. */
  canary: TargetRuntime[];
  /** Every other target of the app. */
  stable: TargetRuntime[];
}

const NO_HSTS = { redirect: true, hsts: null };

const PASSIVE_DOWN_MS = 2000;

const pickSide = (side: readonly TargetRuntime[], usable: (t: TargetRuntime) => boolean): TargetRuntime | undefined =>
  pickWeighted(side, usable) ?? pickEvenly(side, usable);

function liveSplit(split: CanarySplit, targets: readonly TargetRuntime[]): LiveSplit {
  const live: LiveSplit = { release: split.release, percent: split.percent, sticky: split.sticky, canary: [], stable: [] };
  for (const t of targets) (t.release === split.release ? live.canary : live.stable).push(t);
  return live;
}

/**
 * The live route table: hostname -> app -> targets. `apply` swaps in a new table while keeping every
 * target's runtime (pool, counters, in-flight work); targets that leave the table drain rather than drop.
 */
export class Routes {
  #apps = new Map<string, AppRuntime>();
  #byHost = new Map<string, AppRuntime>();
  #wildcards = new Map<string, AppRuntime>();
  #targets = new Map<string, TargetRuntime>();
  #pool: PoolOptions;
  #table: RouteTable = { generation: 0, apps: {} };
  readonly #releases: ReleaseBook;

  /** `now`: the clock that times forgetting releases (ReleaseBook). */
  constructor(pool: PoolOptions, now: () => number = Date.now) {
    this.#pool = pool;
    this.#releases = new ReleaseBook(now);
  }

  get table(): RouteTable {
    return this.#table;
  }

  /** Swaps in `table`, unless it is older than the one in use (then nothing changes and it says false). */
  apply(table: RouteTable): boolean {
    if (table.generation < this.#table.generation) return false;
    const apps = new Map<string, AppRuntime>();
    const byHost = new Map<string, AppRuntime>();
    const wildcards = new Map<string, AppRuntime>();
    const seen = new Set<string>();

    for (const [name, route] of Object.entries(table.apps)) {
      const app: AppRuntime = { name, targets: [], drainTimeoutMs: route.drainTimeoutMs, https: route.https ?? NO_HSTS, chaos: route.chaos ?? null, split: null };
      for (const target of route.targets) {
        const key = TargetRuntime.keyOf(target);
        seen.add(key);
        let runtime = this.#targets.get(key);
        const release = this.#releases.counters(name, target.release);
        if (!runtime) {
          runtime = new TargetRuntime(target, name, this.#pool, release);
          this.#targets.set(key, runtime);
        } else runtime.moveTo(release);
        runtime.app = name;
        runtime.release = target.release;
        if (target.state === 'active') {
          if (runtime.state !== 'active') runtime.reactivate(target.weight);
          runtime.weight = target.weight;
        } else {
          runtime.beginDrain('draining', route.drainTimeoutMs, () => {});
        }
        app.targets.push(runtime);
      }
      if (route.split != null) app.split = liveSplit(route.split, app.targets);
      apps.set(name, app);
      for (const host of route.hosts) {
        if (host.startsWith('*.')) wildcards.set(host.slice(1), app);
        else byHost.set(host, app);
      }
    }

    // Targets no longer listed keep serving what they have until idle or their app's drain timeout.
    for (const [key, runtime] of this.#targets) {
      if (seen.has(key)) continue;
      if (runtime.state === 'removed') continue;
      const timeout = this.#apps.get(runtime.app)?.drainTimeoutMs ?? 0;
      runtime.beginDrain('removed', timeout, () => this.#forget(runtime));
      if (runtime.idle) this.#forget(runtime);
    }

    this.#apps = apps;
    this.#byHost = byHost;
    this.#wildcards = wildcards;
    this.#table = table;
    this.sweepReleases();
    return true;
  }

  /** Forgets releases no live target uses once their hour is up (ReleaseBook). */
  sweepReleases(): void {
    const named = new Set<ReleaseCounters>();
    for (const t of this.#targets.values()) named.add(t.counters.release);
    this.#releases.sweep(named);
  }

  /** Per release, cumulative (ProxyStats.releases). */
  releaseStats(): ReleaseStats[] {
    this.sweepReleases();
    return this.#releases.snapshot();
  }

  /** Exact host first, then the closest `*.domain` wildcard. */
  resolve(host: string): AppRuntime | undefined {
    const exact = this.#byHost.get(host);
    if (exact || this.#wildcards.size === 0) return exact;
    for (let dot = host.indexOf('.'); dot !== -1; dot = host.indexOf('.', dot + 1)) {
      const app = this.#wildcards.get(host.slice(dot));
      if (app) return app;
    }
    return undefined;
  }

  /**
   * Next target for a new request, skipping ones already tried and, while others remain, ones seen down.
   * `canary` (only for an app with a split): the client's side (split.ts). Its targets are picked first,
   * the other side's only when none of them is usable, so a side's weighted round-robin is never advanced
   * by the other's requests; a side whose targets are all down gives way to the other's healthy ones.
   * Inside a side, weights share its requests; a side whose usable targets all weigh 0 is still used when
   * it is the one left (`pickEvenly`): the stable release never stops serving, at 100 % either.
   */
  pick(app: AppRuntime, tried: readonly TargetRuntime[], now: number, canary?: boolean): TargetRuntime | undefined {
    const fresh = (t: TargetRuntime) => t.state === 'active' && !tried.includes(t);
    const up = (t: TargetRuntime) => fresh(t) && t.downUntil <= now;
    const split = app.split;
    if (split == null || canary === undefined) return pickWeighted(app.targets, up) ?? pickWeighted(app.targets, fresh);
    const mine = canary ? split.canary : split.stable;
    const other = canary ? split.stable : split.canary;
    return pickSide(mine, up) ?? pickSide(other, up) ?? pickSide(mine, fresh) ?? pickSide(other, fresh);
  }

  markDown(target: TargetRuntime, now: number): void {
    target.downUntil = now + PASSIVE_DOWN_MS;
  }

  /** A removed target that finished its last exchange can go. */
  settled(target: TargetRuntime): void {
    if (target.state === 'removed' && target.idle) this.#forget(target);
  }

  #forget(target: TargetRuntime): void {
    if (this.#targets.get(target.key) !== target) return;
    this.#targets.delete(target.key);
    target.destroy();
  }

  targetStats(): Record<string, TargetStats> {
    const out: Record<string, TargetStats> = {};
    // Keyed by instance id; an active target wins over a draining one left at an old address.
    for (const t of this.#targets.values()) {
      if (out[t.id] && t.state !== 'active') continue;
      out[t.id] = t.counters.snapshot({ app: t.app, release: t.release, state: t.state, inflight: t.inflight, websockets: t.websockets.size });
    }
    return out;
  }

  closeAll(): void {
    for (const target of this.#targets.values()) target.destroy();
    this.#targets.clear();
  }
}

