import { createMasker, type Masker } from '../runtime/mask-secrets.ts';
import { openEnv, type Sealer } from '../secrets/sealer.ts';
import type { Store } from '../store/store.ts';
import { releaseEnv } from './instance-spec.ts';

/** Maskers kept: one per app and deployment being written about, the least recently used dropped first. */
const CACHE_SIZE = 64;

const unmasked: Masker = (text) => text;

/**
 * The secret values berth holds for an app, as one masker for what it writes about the app (events, a
 * deployment's error and output tail): the env as set now, and the env snapshot and service passwords of
 * the release serving and of the deployment's own release and the one it replaces. Snapshots count
 * because a rollback brings back values the env no longer has, and a failed deploy's release is marked
 * failed before its error is written. A masker is built again only when one of those changes.
 */
export class AppSecrets {
  readonly #store: Store;
  readonly #sealer: Sealer;
  readonly #cache = new Map<string, { key: string; mask: Masker }>();

  constructor(store: Store, sealer: Sealer) {
    this.#store = store;
    this.#sealer = sealer;
  }

  masker(where: { app: string | null; deploymentId?: string | null }): Masker {
    if (where.app === null) return unmasked;
    const store = this.#store;
    const env = store.env.list(where.app);
    const deployment = where.deploymentId ? store.deployments.get(where.deploymentId) : undefined;
    const releases = [...new Set([store.apps.get(where.app)?.currentRelease, deployment?.releaseId, deployment?.previousReleaseId])].filter((id): id is string => typeof id === 'string');
    // Sealed values change with every set (a fresh IV), so they say whether the env changed.
    const key = JSON.stringify([env.map((v) => v.valueSealed), releases]);
    const slot = `${where.app}\n${where.deploymentId ?? ''}`;
    const cached = this.#cache.get(slot);
    this.#cache.delete(slot);
    const mask = cached?.key === key ? cached.mask : createMasker(this.#values(env.map((v) => v.valueSealed), releases));
    this.#cache.set(slot, { key, mask });
    if (this.#cache.size > CACHE_SIZE) this.#cache.delete(this.#cache.keys().next().value!);
    return mask;
  }

  #values(sealed: string[], releaseIds: string[]): string[] {
    const values: string[] = [];
    // A value berth cannot open never reached an app either, so it cannot be in their output.
    const open = (read: () => string[]) => {
      try {
        values.push(...read());
      } catch {}
    };
    for (const value of sealed) open(() => [this.#sealer.open(value)]);
    for (const id of releaseIds) {
      const release = this.#store.releases.get(id);
      if (release) open(() => releaseEnv(release, openEnv(this.#sealer, release.envSealed)).secrets);
    }
    return values;
  }
}
