/**
 * The private network of each app (one bridge per app, ./names.ts: networkName), created on first use and
 * reused by every later start, one-off run and service of the app. Concurrent first uses share one
 * creation; a creation that fails is tried again by the next use.
 */
import type { DockerEngine } from './engine.ts';
import { baseLabels, networkName } from './names.ts';

export class AppNetworks {
  readonly #engine: DockerEngine;
  readonly #ownerId: string;
  readonly #pending = new Map<string, Promise<string>>();

  constructor(engine: DockerEngine, ownerId: string) {
    this.#engine = engine;
    this.#ownerId = ownerId;
  }

  /** The app's network name, once the network exists. */
  ensure(app: string): Promise<string> {
    let pending = this.#pending.get(app);
    if (!pending) {
      pending = this.#create(app);
      pending.catch(() => this.#pending.delete(app));
      this.#pending.set(app, pending);
    }
    return pending;
  }

  /** The app's network was removed: the next use creates it again. */
  forget(app: string): void {
    this.#pending.delete(app);
  }

  async #create(app: string): Promise<string> {
    const name = networkName(this.#ownerId, app);
    const existing = await this.#engine.listNetworks({ name: [name] });
    if (!existing.some((n) => n.Name === name)) await this.#engine.createNetwork(name, baseLabels(this.#ownerId, 'network', app));
    return name;
  }
}
