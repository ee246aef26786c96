import type { RouteTable } from '../dataplane/route-table.ts';
import type { DeployContext } from './context.ts';
import { buildRouteTable, type AppRouting } from './routes.ts';

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
  /** When the last table reached the proxy. */
  publishedAt = 0;

  constructor(ctx: DeployContext) {
    this.#ctx = ctx;
  }

  current(): RouteTable {
    const { store } = this.#ctx;
    const apps: AppRouting[] = store.apps.list().map((app) => {
      const releases = store.releases.listByApp(app.name);
      return {
        name: app.name,
        current: releases.find((r) => r.id === app.currentRelease) ?? null,
        instances: store.instances.live(app.name),
        releaseNames: new Map(releases.map((r) => [r.id, `v${r.version}`])),
      };
    });
    this.#generation = Math.max(this.#generation + 1, this.#ctx.clock.now());
    return buildRouteTable(apps, this.#ctx.settings.baseDomain, this.#generation);
  }

  /** Computes the table from the store and pushes it; resolves once the proxy has it. */
  publish(): Promise<void> {
    const run = this.#chain.then(async () => {
      const table = this.current();
      await this.#ctx.dataplane.apply(table);
      this.#last = table;
      this.publishedAt = this.#ctx.clock.now();
    });
    this.#chain = run.catch((error) => this.#ctx.log.error('route table not published', { error: error as Error }));
    return run;
  }

  /** The last table the proxy accepted (for diagnostics). */
  last(): RouteTable | null {
    return this.#last;
  }
}
