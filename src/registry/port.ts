/**
 * The registry port: what berth asks an image registry, without pulling. `RegistryClient` (client.ts)
 * implements it over the Registry HTTP API v2; the auto-update controller and the login use case take
 * this interface, so their tests can use a fake (fake.test-support.ts) that follows the same rules.
 */
import type { ImageReference } from '../lib/image-reference.ts';

/** A user and password (or access token) for one registry. Never logged, never in an error. */
export interface RegistryCredentials {
  readonly username: string;
  readonly password: string;
}

export interface RegistryCallOptions {
  /** For the image's registry; without them only anonymous access is tried. */
  credentials?: RegistryCredentials | undefined;
  /** Aborting rejects with the signal's reason (not a registry error). */
  signal?: AbortSignal | undefined;
}

export interface ResolvedImage {
  /** `sha256:...`: what the tag points at now (for a multi-platform image, its index). */
  digest: string;
  /** The manifest's media type, as the registry said (`application/vnd.oci.image.index.v1+json`...). */
  mediaType: string | undefined;
  /** The same image pinned to that digest (no tag): what a release records. */
  pinned: ImageReference;
}

export interface RegistryPort {
  /**
   * The digest `ref` points at now (a pinned `ref` is checked to exist). Rejects with IMAGE_NOT_FOUND,
   * REGISTRY_AUTH_FAILED, REGISTRY_UNREACHABLE (including a timeout) or REGISTRY_ERROR, each naming the
   * registry and the image.
   */
  resolveDigest(ref: ImageReference, options?: RegistryCallOptions): Promise<ResolvedImage>;
  /**
   * Checks that `credentials` log in to the registry `domain` (GET /v2/ through its auth flow), so a login
   * fails at once: REGISTRY_AUTH_FAILED when refused, REGISTRY_UNREACHABLE or REGISTRY_ERROR otherwise.
   * A registry that needs no login accepts any credentials, as `docker login` does.
   */
  verify(domain: string, credentials: RegistryCredentials, options?: { signal?: AbortSignal }): Promise<void>;
}
