/**
 * Images the docker driver runs without having built them: a service's image, an image app's, the base
 * images of a build. ensure() is called before every container create of such an image (and by whoever
 * wants a pull to fail a deploy before anything changes): present, nothing happens; missing, the engine
 * pulls it (./engine-pull.ts) with the credentials the daemon has for its registry, bounded in time, and
 * its progress goes to the caller. Images berth built (image ids) are never pulled.
 */
import { fail } from '../../errors/catalogue.ts';
import type { Logger } from '../../lib/log.ts';
import type { EnsureImageOptions, ImageRuntime, PullProgress } from '../driver.ts';
import type { DockerEngine } from './engine.ts';
import { EngineError } from './engine-transport.ts';
import { registryOf } from '../../lib/image-reference.ts';
import { isImageId, pullTarget } from './image-ref.ts';

/**
 * The X-Registry-Auth value (base64url JSON of username, password, serveraddress) for a registry host
 * (`docker.io`, `ghcr.io`, `127.0.0.1:5000`), or undefined to pull without credentials.
 */
export type RegistryAuth = (registry: string) => Promise<string | undefined> | string | undefined;

export interface PullLimits {
  /** The whole pull. */
  timeoutMs: number;
  /** No word from the engine for this long: the registry stopped sending. */
  idleMs: number;
}

/** Generous for big images on slow links; a stalled registry is caught by the idle limit long before. */
export const DEFAULT_PULL_LIMITS: PullLimits = { timeoutMs: 30 * 60_000, idleMs: 60_000 };

export interface DockerImagesOptions {
  engine: DockerEngine;
  log: Logger;
  registryAuth?: RegistryAuth;
  limits?: Partial<PullLimits>;
}

export class DockerImages implements ImageRuntime {
  readonly #engine: DockerEngine;
  readonly #log: Logger;
  readonly #auth: RegistryAuth | undefined;
  readonly #limits: PullLimits;

  constructor(options: DockerImagesOptions) {
    this.#engine = options.engine;
    this.#log = options.log;
    this.#auth = options.registryAuth;
    this.#limits = { ...DEFAULT_PULL_LIMITS, ...options.limits };
  }

  async ensure(ref: string, options: EnsureImageOptions = {}): Promise<{ pulled: boolean; id: string; repoDigests: string[] }> {
    // A reference the engine would refuse (`Redis:7`) is IMAGE_REFERENCE_INVALID before the engine is asked.
    if (!isImageId(ref)) pullTarget(ref);
    const present = await this.#engine.inspectImage(ref);
    if (present) return { pulled: false, id: present.Id, repoDigests: present.RepoDigests ?? [] };
    if (isImageId(ref)) {
      throw fail('PULL_FAILED', { reference: ref, reason: 'it is the id of an image berth built on this machine, which is gone, and an id cannot be pulled: deploy again to build it' });
    }
    const registry = registryOf(ref);
    const auth = await this.#auth?.(registry);
    const started = Date.now();
    this.#log.info('pulling an image', { ref, registry, authenticated: auth !== undefined });
    let last: PullProgress | undefined;
    const { digest } = await this.#engine.pullImage(ref, {
      ...(auth !== undefined ? { auth } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
      ...this.#limits,
      onProgress: (progress) => {
        last = progress;
        this.#report(options.onPull, progress);
      },
    });
    const image = await this.#engine.inspectImage(ref);
    if (!image) throw fail('PULL_FAILED', { reference: ref, reason: 'the engine reported the pull done, but has no such image' });
    this.#log.info('pulled an image', { ref, digest, bytes: last?.totalBytes ?? 0, ms: Date.now() - started });
    return { pulled: true, id: image.Id, repoDigests: image.RepoDigests ?? [] };
  }

  async present(ref: string): Promise<{ id: string; repoDigests: string[] } | undefined> {
    const image = await this.#engine.inspectImage(ref);
    return image ? { id: image.Id, repoDigests: image.RepoDigests ?? [] } : undefined;
  }

  async release(ref: string): Promise<void> {
    try {
      await this.#engine.removeImage(ref, { force: false });
    } catch (error) {
      // 409: a container (a standby release, another app) still uses it; it goes with a later prune.
      if (error instanceof EngineError && error.status === 409) return;
      throw error;
    }
  }

  /** Progress is for people to watch: a callback that throws is logged, and the pull goes on. */
  #report(onPull: ((progress: PullProgress) => void) | undefined, progress: PullProgress): void {
    try {
      onPull?.(progress);
    } catch (error) {
      this.#log.warn('a pull progress callback failed', { ref: progress.ref, error: error as Error });
    }
  }
}
