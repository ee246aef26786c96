/**
 * Images for the fake driver, as a container runtime has them, for tests of image apps, services and
 * auto-update above the runtime. `FakeRemoteImages` is what the registries hold: a test publishes an image
 * under its reference (a digest-pinned one, as berth pulls an image app's) with the behaviour its instances
 * have. `FakeImages` is this machine's side: ensure() "pulls" a published image (then instances of it can
 * start), a reference nobody published fails as a pull would (IMAGE_NOT_FOUND), release() frees one no
 * instance runs, present() says what is here. Services (`FakeServices`) pull through it too.
 */
import { fail } from '../../errors/catalogue.ts';
import { checkReference, formatReference } from '../../lib/image-reference.ts';
import type { AccessoryRuntime, AccessorySpec, AccessoryState, EnsureImageOptions, ImageRuntime } from '../driver.ts';
import type { FakeBehaviour } from './behaviour.ts';
import type { FakeState } from './state.ts';

/** `docker.io/library/redis:7` for `redis:7`: one spelling per image. */
function normalize(ref: string): string | undefined {
  const checked = checkReference(ref);
  return checked.ok ? formatReference(checked.reference) : undefined;
}

/** What the registries hold, by normalized reference. */
export class FakeRemoteImages {
  readonly #images = new Map<string, FakeBehaviour>();
  /** Every pull, by normalized reference, in order. */
  readonly pulls: string[] = [];

  publish(reference: string, behaviour: FakeBehaviour = {}): void {
    const key = normalize(reference);
    if (!key) throw new Error(`not an image reference: ${reference}`);
    this.#images.set(key, behaviour);
  }

  get(reference: string): FakeBehaviour | undefined {
    const key = normalize(reference);
    return key === undefined ? undefined : this.#images.get(key);
  }
}

export class FakeImages implements ImageRuntime {
  readonly #state: FakeState;
  readonly #remote: FakeRemoteImages;

  constructor(state: FakeState, remote: FakeRemoteImages) {
    this.#state = state;
    this.#remote = remote;
  }

  async ensure(ref: string, options: EnsureImageOptions = {}): Promise<{ pulled: boolean; id: string; repoDigests: string[] }> {
    options.signal?.throwIfAborted();
    if (this.#state.artifacts.has(ref)) return { pulled: false, id: ref, repoDigests: this.#repoDigests(ref) };
    const checked = checkReference(ref);
    if (!checked.ok) throw fail('IMAGE_REFERENCE_INVALID', { reference: ref, reason: checked.reason, fix: checked.fix });
    const behaviour = this.#remote.get(ref);
    if (!behaviour) throw fail('IMAGE_NOT_FOUND', { registry: checked.reference.domain, reference: ref, reason: 'nothing was published under it (FakeRemoteImages)' });
    this.#remote.pulls.push(formatReference(checked.reference));
    options.onPull?.({ ref, doneBytes: 1, totalBytes: 1, layers: 1, layersDone: 1, done: true });
    this.#state.artifacts.set(ref, { behaviour });
    return { pulled: true, id: ref, repoDigests: this.#repoDigests(ref) };
  }

  async release(ref: string): Promise<void> {
    const inUse = [...this.#state.instances.values()].some((i) => i.spec.artifact === ref && !i.stopping);
    if (!inUse) this.#state.artifacts.delete(ref);
  }

  async present(ref: string): Promise<{ id: string; repoDigests: string[] } | undefined> {
    return this.#state.artifacts.has(ref) ? { id: ref, repoDigests: this.#repoDigests(ref) } : undefined;
  }

  #repoDigests(ref: string): string[] {
    const checked = checkReference(ref);
    return checked.ok && checked.reference.digest ? [formatReference(checked.reference)] : [];
  }
}

/**
 * Services on the fake machine: each pulled through FakeImages first (a failed pull changes nothing), then
 * recorded; a changed spec "recreates" it. In memory: a later driver on the same FakeState has none.
 */
export class FakeServices implements AccessoryRuntime {
  readonly #images: ImageRuntime;
  /** `app/name` -> the spec it runs (without onPull) and whether `berth down` stopped it. */
  readonly running = new Map<string, { spec: Omit<AccessorySpec, 'onPull'>; stopped: boolean }>();

  constructor(images: ImageRuntime) {
    this.#images = images;
  }

  async ensure(spec: AccessorySpec): Promise<{ changed: boolean }> {
    const { onPull, ...kept } = spec;
    await this.#images.ensure(spec.image, onPull ? { onPull } : {});
    const key = `${spec.app}/${spec.name}`;
    const before = this.running.get(key);
    const changed = !before || JSON.stringify(before.spec) !== JSON.stringify(kept);
    this.running.set(key, { spec: structuredClone(kept), stopped: false });
    return { changed: changed || before.stopped };
  }

  async state(app: string, name: string): Promise<AccessoryState> {
    const entry = this.running.get(`${app}/${name}`);
    if (!entry) return 'missing';
    if (entry.stopped) return 'exited';
    return entry.spec.health ? 'healthy' : 'running';
  }

  async list(app: string): Promise<{ name: string; state: AccessoryState }[]> {
    const names = [...this.running.keys()].filter((key) => key.startsWith(`${app}/`)).map((key) => key.slice(app.length + 1));
    return Promise.all(names.map(async (name) => ({ name, state: await this.state(app, name) })));
  }

  async remove(app: string, name: string): Promise<void> {
    this.running.delete(`${app}/${name}`);
  }

  async stopAll(): Promise<void> {
    for (const entry of this.running.values()) entry.stopped = true;
  }
}
