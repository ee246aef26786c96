/**
 * An in-memory registry behind the registry port, for tests of what sits above it (the auto-update
 * controller, the login use case). It follows the same rules as the real client, checked by the shared
 * contract (registry.contract.test-support.ts): pushing moves a tag, unknown images are IMAGE_NOT_FOUND,
 * a registry that wants a login refuses missing or wrong credentials with REGISTRY_AUTH_FAILED. A test can
 * also make the next calls to a registry fail (`breakRegistry`) and count the calls made.
 */
import { createHash, randomBytes } from 'node:crypto';
import { fail } from '../errors/catalogue.ts';
import type { RegistryCallOptions, RegistryCredentials, RegistryPort, ResolvedImage } from './port.ts';
import { familiarReference, nameOf, type ImageReference } from '../lib/image-reference.ts';
import { parseReference, pinReference } from './reference.ts';

const DOCKER_V2 = 'application/vnd.docker.distribution.manifest.v2+json';

export class FakeRegistry implements RegistryPort {
  /** `domain/path` -> tag -> digest */
  readonly #tags = new Map<string, Map<string, string>>();
  /** `domain/path` -> every digest ever pushed there */
  readonly #digests = new Map<string, Set<string>>();
  readonly #logins = new Map<string, RegistryCredentials>();
  readonly #broken = new Map<string, 'REGISTRY_UNREACHABLE' | 'REGISTRY_ERROR'>();
  /** Every resolveDigest call, as the familiar reference asked for. */
  readonly calls: string[] = [];

  /** Points `reference` (with a tag) at a new digest, or the one given; returns the digest. */
  push(reference: string, digest = `sha256:${createHash('sha256').update(randomBytes(32)).digest('hex')}`): string {
    const ref = parseReference(reference);
    if (ref.tag === undefined) throw new Error(`push needs a tag: ${reference}`);
    const name = nameOf(ref);
    if (!this.#tags.has(name)) this.#tags.set(name, new Map());
    this.#tags.get(name)!.set(ref.tag, digest);
    if (!this.#digests.has(name)) this.#digests.set(name, new Set());
    this.#digests.get(name)!.add(digest);
    return digest;
  }

  /** From now on `domain` wants these credentials, as a private registry does. */
  requireLogin(domain: string, credentials: RegistryCredentials): void {
    this.#logins.set(domain, credentials);
  }

  /** Calls to `domain` fail with this code until `repair(domain)`. */
  breakRegistry(domain: string, code: 'REGISTRY_UNREACHABLE' | 'REGISTRY_ERROR' = 'REGISTRY_UNREACHABLE'): void {
    this.#broken.set(domain, code);
  }

  repair(domain: string): void {
    this.#broken.delete(domain);
  }

  async resolveDigest(ref: ImageReference, options: RegistryCallOptions = {}): Promise<ResolvedImage> {
    const reference = familiarReference(ref);
    this.calls.push(reference);
    if (options.signal?.aborted) throw options.signal.reason;
    this.#check(ref.domain, reference, options.credentials);
    const name = nameOf(ref);
    const digest = ref.digest ?? this.#tags.get(name)?.get(ref.tag!);
    const known = digest !== undefined && (this.#digests.get(name)?.has(digest) ?? false);
    if (!known) {
      const reason = !this.#tags.has(name) ? `the repository ${ref.path} does not exist` : `the repository ${ref.path} has no ${ref.digest !== undefined ? `manifest ${ref.digest}` : `tag ${ref.tag}`}`;
      throw fail('IMAGE_NOT_FOUND', { registry: ref.domain, reference, reason });
    }
    return { digest: digest!, mediaType: DOCKER_V2, pinned: pinReference(ref, digest!) };
  }

  async verify(domain: string, credentials: RegistryCredentials, options: { signal?: AbortSignal } = {}): Promise<void> {
    if (options.signal?.aborted) throw options.signal.reason;
    this.#check(domain, undefined, credentials);
  }

  #check(domain: string, reference: string | undefined, credentials: RegistryCredentials | undefined): void {
    const broken = this.#broken.get(domain);
    if (broken) throw fail(broken, { registry: domain, reference, reason: 'broken by the test (FakeRegistry.breakRegistry)' });
    const wanted = this.#logins.get(domain);
    if (!wanted) return;
    if (!credentials) throw fail('REGISTRY_AUTH_FAILED', { registry: domain, reference, reason: 'it needs a login' });
    if (credentials.username !== wanted.username || credentials.password !== wanted.password) {
      throw fail('REGISTRY_AUTH_FAILED', { registry: domain, reference, reason: 'the user name or password is wrong' });
    }
  }
}
