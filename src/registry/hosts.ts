/**
 * Registry hosts: where a registry's API lives, which ones are spoken to in plain HTTP, and the one
 * spelling credentials are stored under (pure).
 */
import { fail } from '../errors/catalogue.ts';
import { DOCKER_HUB, isRegistryDomain } from '../lib/image-reference.ts';

/** Names `docker login` accepts for Docker Hub; all stored as `docker.io`. */
const HUB_ALIASES = new Set(['docker.io', 'index.docker.io', 'registry-1.docker.io', 'registry.hub.docker.com']);

/** Docker Hub's API is not at docker.io: the engine talks to registry-1.docker.io. */
export const apiHost = (domain: string): string => (domain === DOCKER_HUB ? 'registry-1.docker.io' : domain);

/** The host without its port: `127.0.0.1`, `ghcr.io`, `[::1]`. */
export function hostOnly(domain: string): string {
  if (domain.startsWith('[')) return domain.slice(0, domain.indexOf(']') + 1);
  const colon = domain.indexOf(':');
  return colon === -1 ? domain : domain.slice(0, colon);
}

/**
 * Registries the engine speaks plain HTTP to by default: 127.0.0.0/8 (its default insecure range), and
 * `localhost`, which resolves there. Every other registry is HTTPS.
 */
export function isLoopbackRegistry(domain: string): boolean {
  const host = hostOnly(domain).toLowerCase();
  if (host === 'localhost') return true;
  const octets = /^127\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(host);
  return octets !== null && octets.slice(1).every((octet) => Number(octet) <= 255);
}

/**
 * The host credentials are stored and looked up under: what `berth registry login HOST` was given, or an
 * image reference's domain. `https://index.docker.io/v1/` and `Docker.io` are `docker.io`; a scheme and a
 * path are dropped as `docker login` does. Throws REGISTRY_HOST_INVALID.
 */
export function registryHost(text: string): string {
  const trimmed = typeof text === 'string' ? text.trim() : '';
  if (trimmed === '') throw fail('REGISTRY_HOST_INVALID', { host: String(text ?? ''), reason: 'it is empty' });
  const withoutScheme = trimmed.replace(/^https?:\/\//i, '');
  const slash = withoutScheme.indexOf('/');
  const host = (slash === -1 ? withoutScheme : withoutScheme.slice(0, slash)).toLowerCase();
  if (HUB_ALIASES.has(host)) return DOCKER_HUB;
  if (!isRegistryDomain(host)) {
    throw fail('REGISTRY_HOST_INVALID', { host: trimmed, reason: 'a registry is a host name or IP address with an optional port' });
  }
  return host;
}
