/**
 * What each live instance uses (CPU, memory) and how often it restarted, read from the runtime driver at
 * most every 15 s: `usage()` is one engine call (docker stats) or a /proc walk per instance, not
 * something to run on every scrape. CPU % is the counter's growth between two samples.
 */
import type { Logger } from '../lib/log.ts';
import type { InstanceRunState, RuntimeDriver } from '../runtime/driver.ts';
import type { Store } from '../store/store.ts';

export const USAGE_EVERY_MS = 15_000;

export interface InstanceSample {
  id: string;
  /** Null until the driver could read it. */
  cpuSeconds: number | null;
  /** Share of one CPU between the last two samples, in percent (200 = two cores busy); null with one sample only. */
  cpuPercent: number | null;
  memoryBytes: number | null;
  memoryLimitBytes: number | null;
  restarts: number;
  run: InstanceRunState | null;
  at: number;
}

export class UsageSampler {
  readonly #driver: Pick<RuntimeDriver, 'usage' | 'list'>;
  readonly #store: Store;
  readonly #log: Logger;
  readonly #everyMs: number;
  #samples = new Map<string, InstanceSample>();
  #lastAt = -Infinity;
  #warned = false;

  constructor(options: { driver: Pick<RuntimeDriver, 'usage' | 'list'>; store: Store; log: Logger; everyMs?: number }) {
    this.#driver = options.driver;
    this.#store = options.store;
    this.#log = options.log;
    this.#everyMs = options.everyMs ?? USAGE_EVERY_MS;
  }

  /** Reads the driver when the last sample is older than the period; keeps only instances the store has live. */
  async sample(now: number): Promise<void> {
    if (now - this.#lastAt < this.#everyMs) return;
    this.#lastAt = now;
    const ids = this.#store.instances.live().map((i) => i.id);
    const [usage, infos] = await Promise.all([
      ids.length ? this.#driver.usage(ids).catch((error) => this.#failed(error)) : [],
      this.#driver.list().catch((error) => this.#failed(error)),
    ]);
    const usageById = new Map(usage.map((u) => [u.id, u]));
    const infoById = new Map(infos.map((i) => [i.id, i]));
    const next = new Map<string, InstanceSample>();
    for (const id of ids) {
      const u = usageById.get(id);
      const info = infoById.get(id);
      const before = this.#samples.get(id);
      const cpuSeconds = u && Number.isFinite(u.cpuSeconds) ? u.cpuSeconds : null;
      const elapsed = before ? (now - before.at) / 1000 : 0;
      const grew = cpuSeconds !== null && before?.cpuSeconds != null && cpuSeconds >= before.cpuSeconds ? cpuSeconds - before.cpuSeconds : null;
      next.set(id, {
        id,
        cpuSeconds,
        cpuPercent: grew !== null && elapsed > 0 ? Math.round((grew / elapsed) * 1000) / 10 : null,
        memoryBytes: u && Number.isFinite(u.memoryBytes) ? u.memoryBytes : null,
        memoryLimitBytes: u?.memoryLimitBytes ?? null,
        restarts: info?.restarts ?? before?.restarts ?? 0,
        run: info?.state ?? null,
        at: now,
      });
    }
    this.#samples = next;
  }

  #failed(error: unknown): never[] {
    if (!this.#warned) this.#log.warn('metrics: the runtime did not report instance usage', { error: error as Error });
    this.#warned = true;
    return [];
  }

  get(id: string): InstanceSample | undefined {
    return this.#samples.get(id);
  }
}
