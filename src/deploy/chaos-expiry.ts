import type { DeployContext } from './context.ts';
import { sweepExpiredChaos, type TablePublisher } from './chaos.ts';

/** How often the daemon looks for chaos past its end: the proxy already ignores it, so this only tidies. */
export const CHAOS_SWEEP_MS = 1000;

/**
 * The controller that ends chaos in the store: every `everyMs` it removes rules past their `until` (a
 * `chaos.off` event each, reason expired) and publishes the table without them. It also runs once at
 * start, so chaos that expired while the daemon was down is removed at once.
 */
export class ChaosExpiry {
  readonly #ctx: DeployContext;
  readonly #routing: TablePublisher;
  readonly #everyMs: number;
  #timer: NodeJS.Timeout | null = null;
  #running: Promise<void> | null = null;

  constructor(ctx: DeployContext, routing: TablePublisher, everyMs = CHAOS_SWEEP_MS) {
    this.#ctx = ctx;
    this.#routing = routing;
    this.#everyMs = everyMs;
  }

  start(): void {
    if (this.#timer !== null) return;
    this.#timer = setInterval(() => void this.sweep(), this.#everyMs);
    this.#timer.unref();
    void this.sweep();
  }

  /** One sweep; overlapping calls share the one running. */
  sweep(): Promise<void> {
    this.#running ??= sweepExpiredChaos(this.#ctx, this.#routing)
      .then(() => {})
      .catch((error) => this.#ctx.log.error('expired chaos not removed', { error: error as Error }))
      .finally(() => {
        this.#running = null;
      });
    return this.#running;
  }

  async stop(): Promise<void> {
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
    await this.#running;
  }
}
