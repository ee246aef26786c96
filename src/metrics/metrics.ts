/**
 * berth's metrics as one object the composition root builds: the collector ticking, the Prometheus
 * scrape text, and `appTraffic`, the use case behind `GET /v1/apps/:app/metrics`, `berth status`,
 * `berth top` and the canary analysis of a later issue (callable without HTTP: plain input, a plain
 * record out, catalogue errors).
 */
import type { DataPlane } from '../dataplane/route-table.ts';
import { fail } from '../errors/catalogue.ts';
import type { Clock } from '../lib/clock.ts';
import type { Logger } from '../lib/log.ts';
import type { InstanceRunState, InstanceState } from '../model/states.ts';
import { DEFAULT_ENV } from '../runtime/docker/names.ts';
import type { RuntimeDriver } from '../runtime/driver.ts';
import type { Store } from '../store/store.ts';
import { MetricsCollector } from './collector.ts';
import { deployTotals } from './deploy-totals.ts';
import { renderExposition, type ExpositionInput } from './exposition.ts';
import { UsageSampler } from './usage-sampler.ts';
import { emptySums, figures, isWindowName, WINDOW_NAMES, WINDOWS, type TrafficFigures, type WindowName } from './windows.ts';

export interface AppTraffic {
  app: string;
  window: WindowName;
  windowSeconds: number;
  at: number;
  /** Over every release of the app. */
  total: TrafficFigures;
  /** The current release first (even without traffic), then every other release with requests in the last hour. */
  releases: (TrafficFigures & { id: string; name: string; current: boolean })[];
  instances: {
    id: string;
    process: string;
    release: string;
    state: InstanceState;
    run: InstanceRunState | null;
    restarts: number;
    cpuSeconds: number | null;
    cpuPercent: number | null;
    memoryBytes: number | null;
    memoryLimitBytes: number | null;
  }[];
}

export interface MetricsOptions {
  dataplane: Pick<DataPlane, 'stats'>;
  driver: Pick<RuntimeDriver, 'usage' | 'list' | 'name'>;
  store: Store;
  clock: Clock;
  log: Logger;
  version: string;
  /** How often instance usage is read (default 15 s). */
  usageEveryMs?: number;
}

export class Metrics {
  readonly #o: MetricsOptions;
  readonly #usage: UsageSampler;
  readonly collector: MetricsCollector;

  constructor(options: MetricsOptions) {
    this.#o = options;
    const log = options.log.child({ component: 'metrics' });
    this.#usage = new UsageSampler({ driver: options.driver, store: options.store, log, everyMs: options.usageEveryMs });
    this.collector = new MetricsCollector({ dataplane: options.dataplane, store: options.store, clock: options.clock, log, usage: this.#usage });
  }

  start(): void {
    this.collector.start();
  }

  stop(): Promise<void> {
    return this.collector.stop();
  }

  /** The scrape: numbers read after it was asked for, as Prometheus text. */
  async scrape(): Promise<string> {
    await this.collector.refresh();
    return renderExposition(this.#expositionInput());
  }

  #releaseName(id: string): string {
    const r = this.#o.store.releases.get(id);
    return r ? `v${r.version}` : id;
  }

  #expositionInput(): ExpositionInput {
    const { store, driver, version } = this.#o;
    const names = new Map<string, string>();
    const name = (id: string) => names.get(id) ?? names.set(id, this.#releaseName(id)).get(id)!;
    return {
      build: { version, driver: driver.name },
      connections: this.collector.connections(),
      series: this.collector.series().map((s) => ({ app: s.app, environment: DEFAULT_ENV, release: s.releaseName, totals: s.totals, inflight: s.inflight, websockets: s.websockets })),
      instances: store.instances.live().map((i) => {
        const sample = this.#usage.get(i.id);
        return {
          app: i.app,
          environment: DEFAULT_ENV,
          release: name(i.releaseId),
          process: i.process,
          instance: i.id,
          state: i.state,
          restarts: sample?.restarts ?? 0,
          cpuSeconds: sample?.cpuSeconds ?? null,
          memoryBytes: sample?.memoryBytes ?? null,
          memoryLimitBytes: sample?.memoryLimitBytes ?? null,
        };
      }),
      deployments: deployTotals(store),
    };
  }

  /**
   * An app's traffic over a window. METRICS_WINDOW_INVALID for a window other than 1m, 5m or 1h;
   * APP_NOT_FOUND for an unknown app.
   */
  async appTraffic(app: string, window: string): Promise<AppTraffic> {
    if (!isWindowName(window)) throw fail('METRICS_WINDOW_INVALID', { window, allowed: WINDOW_NAMES });
    const record = this.#o.store.apps.get(app);
    if (!record) throw fail('APP_NOT_FOUND', { app });
    await this.collector.refresh();
    const now = this.#o.clock.now();
    const windowMs = WINDOWS[window];
    const { total, releases } = this.collector.appWindow(app, windowMs, now);
    const rows = releases.map(({ series, sums }) => ({ ...figures(sums, windowMs), id: series.releaseId, name: series.releaseName, current: series.releaseId === record.currentRelease }));
    if (record.currentRelease && !rows.some((r) => r.current)) {
      rows.push({ ...figures(emptySums([]), windowMs), id: record.currentRelease, name: this.#releaseName(record.currentRelease), current: true });
    }
    rows.sort((a, b) => Number(b.current) - Number(a.current) || b.name.localeCompare(a.name, 'en', { numeric: true }));
    return {
      app,
      window,
      windowSeconds: windowMs / 1000,
      at: now,
      total: figures(total, windowMs),
      releases: rows,
      instances: this.#o.store.instances.live(app).map((i) => {
        const s = this.#usage.get(i.id);
        return {
          id: i.id,
          process: i.process,
          release: this.#releaseName(i.releaseId),
          state: i.state,
          run: s?.run ?? null,
          restarts: s?.restarts ?? 0,
          cpuSeconds: s?.cpuSeconds ?? null,
          cpuPercent: s?.cpuPercent ?? null,
          memoryBytes: s?.memoryBytes ?? null,
          memoryLimitBytes: s?.memoryLimitBytes ?? null,
        };
      }),
    };
  }
}
