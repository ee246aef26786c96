/**
 * The daemon's view of the proxy's traffic: every tick (5 s, or sooner when a scrape or a query asks for
 * fresh numbers) it reads the data plane's per-release counters and keeps, per (app, release), the last
 * hour as per-interval deltas (./ring.ts) and its own running totals for Prometheus (reset only when the
 * daemon restarts). Instance usage is sampled alongside (./usage-sampler.ts).
 */
import type { DataPlane, ProxyStats } from '../dataplane/route-table.ts';
import type { Clock } from '../lib/clock.ts';
import type { Logger } from '../lib/log.ts';
import type { Store } from '../store/store.ts';
import { accumulate, delta, readingOf, zeroReading, type Reading } from './counters.ts';
import { INTERVAL_MS, SeriesRing, SPAN_MS } from './ring.ts';
import type { UsageSampler } from './usage-sampler.ts';
import { addSums, emptySums, type WindowSums } from './windows.ts';

/** One (app, release) the proxy counted requests for. */
export interface Series {
  app: string;
  /** The release's id (the proxy's label when the store no longer knows the release). */
  releaseId: string;
  /** `v3`; the proxy's label when the store no longer knows the release. */
  releaseName: string;
  ring: SeriesRing;
  /** Since this daemon first saw the series (Prometheus counters). */
  totals: Reading;
  inflight: number;
  websockets: number;
  /** The last time it had a request, one in flight or an open WebSocket: an hour after, it is dropped. */
  lastActive: number;
}

export interface CollectorOptions {
  dataplane: Pick<DataPlane, 'stats'>;
  store: Store;
  clock: Clock;
  log: Logger;
  usage?: UsageSampler;
}

const key = (app: string, release: string) => `${app}\u0000${release}`;

export class MetricsCollector {
  readonly #o: CollectorOptions;
  /** Null-prototype semantics by construction: a Map, keyed by app and release. */
  readonly #series = new Map<string, Series>();
  /** The proxy's last reading per series (kept for every release it still reports, dropped series too). */
  #prev = new Map<string, Reading>();
  #proxy: { pid: number; startedAt: number } | null = null;
  #connections = 0;
  #proxyUp = false;
  #ticks = 0;
  #lastTickAt = -Infinity;
  #chain: Promise<void> = Promise.resolve();
  #queued: Promise<void> | null = null;
  #timer: NodeJS.Timeout | undefined;

  constructor(options: CollectorOptions) {
    this.#o = options;
  }

  start(): void {
    this.#timer ??= setInterval(() => void this.refresh(0), INTERVAL_MS);
    this.#timer.unref();
    void this.refresh(0);
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#chain;
  }

  /**
   * Resolves once a reading taken after this call is in (unless one ran within `maxAgeMs`). Ticks never
   * overlap, and callers arriving while one waits share it: a burst of scrapes costs at most two stats calls.
   * Never rejects.
   */
  refresh(maxAgeMs = 0): Promise<void> {
    if (this.#o.clock.now() - this.#lastTickAt < maxAgeMs) return this.#chain;
    if (this.#queued) return this.#queued;
    const queued = this.#chain.then(() => {
      this.#queued = null;
      return this.#tick().catch((error) => this.#o.log.error('metrics: tick failed', { error: error as Error }));
    });
    this.#queued = queued;
    this.#chain = queued;
    return queued;
  }

  async #tick(): Promise<void> {
    const { clock, log } = this.#o;
    let stats: ProxyStats | undefined;
    try {
      stats = await this.#o.dataplane.stats();
    } catch (error) {
      if (this.#proxyUp) log.warn('metrics: the proxy did not answer for its stats', { error: error as Error });
      this.#proxyUp = false;
    }
    const now = clock.now();
    this.#lastTickAt = now;
    if (stats) this.#take(stats, now);
    await this.#o.usage?.sample(now).catch((error) => log.warn('metrics: instance usage not read', { error: error as Error }));
    this.#ticks++;
  }

  #take(stats: ProxyStats, now: number): void {
    this.#proxyUp = true;
    this.#connections = typeof stats.connections === 'number' ? stats.connections : 0;
    // Another proxy process (restarted): its counters start again from zero, whatever they read.
    const restarted = this.#proxy !== null && (this.#proxy.pid !== stats.pid || this.#proxy.startedAt !== stats.startedAt);
    // The first reading of this daemon is only a baseline: what it holds happened before the daemon was here.
    const baseline = this.#ticks === 0 && this.#proxy === null;
    this.#proxy = { pid: stats.pid, startedAt: stats.startedAt };
    const next = new Map<string, Reading>();
    for (const release of Array.isArray(stats.releases) ? stats.releases : []) {
      if (typeof release?.app !== 'string' || typeof release.release !== 'string') continue;
      const k = key(release.app, release.release);
      const reading = readingOf(release);
      next.set(k, reading);
      const d = baseline ? zeroReading(reading.bounds) : delta(restarted ? undefined : this.#prev.get(k), reading);
      let series = this.#series.get(k);
      if (series && series.ring.bounds.join() !== reading.bounds.join()) series = undefined; // other buckets: a new series
      const active = d.requests > 0 || release.inflight > 0 || release.websockets > 0;
      if (!series) {
        if (!active && !baseline) continue;
        series = this.#newSeries(release.app, release.release, reading.bounds, now);
        this.#series.set(k, series);
      }
      series.ring.add(now, d);
      accumulate(series.totals, d);
      series.inflight = Math.max(0, Number(release.inflight) || 0);
      series.websockets = Math.max(0, Number(release.websockets) || 0);
      if (active) series.lastActive = now;
    }
    this.#prev = next;
    for (const [k, series] of this.#series) {
      if (!next.has(k)) series.inflight = series.websockets = 0;
      if (now - series.lastActive > SPAN_MS) this.#series.delete(k);
    }
  }

  /**
   * The proxy names a release as the route table did: its name (`v3`, what desired-routes.ts puts in
   * `Target.release`) or, for a release the store did not name, its id. Both are resolved to the record.
   */
  #resolve(app: string, label: string): { id: string; name: string } {
    const { store } = this.#o;
    const byId = store.releases.get(label);
    if (byId && byId.app === app) return { id: byId.id, name: `v${byId.version}` };
    const version = /^v(\d{1,9})$/.exec(label)?.[1];
    const byName = version === undefined ? undefined : store.releases.listByApp(app).find((r) => r.version === Number(version));
    return byName ? { id: byName.id, name: label } : { id: label, name: label };
  }

  #newSeries(app: string, label: string, bounds: readonly number[], now: number): Series {
    const { id, name } = this.#resolve(app, label);
    return {
      app,
      releaseId: id,
      releaseName: name,
      ring: new SeriesRing(bounds),
      totals: zeroReading(bounds),
      inflight: 0,
      websockets: 0,
      lastActive: now,
    };
  }

  /** Every series this daemon keeps (Prometheus exposition). */
  series(): Series[] {
    return [...this.#series.values()];
  }

  /** Client connections the proxy had open at the last tick; null when it did not answer. */
  connections(): number | null {
    return this.#proxyUp ? this.#connections : null;
  }

  /** An app's window: the sums per release, and over all its releases. */
  appWindow(app: string, windowMs: number, now = this.#o.clock.now()): { total: WindowSums; releases: { series: Series; sums: WindowSums }[] } {
    const releases = this.series()
      .filter((s) => s.app === app)
      .map((series) => ({ series, sums: series.ring.sum(now, windowMs) }));
    const total = emptySums(releases[0]?.series.ring.bounds ?? []);
    for (const r of releases) addSums(total, r.sums);
    return { total, releases };
  }

  /** Bytes the rings hold now. */
  ringBytes(): number {
    return this.series().reduce((sum, s) => sum + s.ring.bytes, 0);
  }
}
