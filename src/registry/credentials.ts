/**
 * Registry credentials between `berth registry login`, the store and their two users: the registry
 * client (`RegistryCredentials`) and the Docker Engine (the `X-Registry-Auth` header of a pull). At rest
 * the password is sealed with the Sealer, like env values; the store keeps host, user and sealed password
 * (src/store/registry-credentials.ts), and `credentialLookup` opens them when an image needs them.
 *
 *   const host = registryHost(input.host);                      // REGISTRY_HOST_INVALID
 *   const credentials = checkCredentials(input);                // REGISTRY_CREDENTIALS_INVALID
 *   await registry.verify(host, credentials);                   // REGISTRY_AUTH_FAILED fails the login fast
 *   store.registryCredentials.save(sealCredentials(sealer, host, credentials), now);
 *   ...
 *   const lookup = credentialLookup(store.registryCredentials, sealer);
 *   registry.resolveDigest(ref, { credentials: credentialsFor(ref, lookup) });
 *   engine.pullImage(ref, { auth: engineRegistryAuth(ref.domain, credentialsFor(ref, lookup)) });
 */
import { fail } from '../errors/catalogue.ts';
import type { Sealer } from '../secrets/sealer.ts';
import { registryHost } from './hosts.ts';
import type { RegistryCredentials } from './port.ts';
import type { ImageReference } from '../lib/image-reference.ts';

export type { RegistryCredentials } from './port.ts';

/** A password or token (GCR's `_json_key` is a whole JSON key file: a few KiB). */
export const PASSWORD_MAX = 16 * 1024;
export const USERNAME_MAX = 256;

/** What the store keeps for one registry: the password only sealed. */
export interface SealedCredentials {
  host: string;
  username: string;
  passwordSealed: string;
}

/** Host -> credentials, opened; undefined when none are stored for that host. */
export type CredentialLookup = (host: string) => RegistryCredentials | undefined;

/**
 * The credentials as a login may give them: a user name without `:` (it ends the user in Basic auth) or
 * control characters, a non-empty password of at most 16 KiB without NUL. Throws REGISTRY_CREDENTIALS_INVALID;
 * the reason never quotes the password.
 */
export function checkCredentials(input: { username: unknown; password: unknown }): RegistryCredentials {
  const { username, password } = input;
  const refuse = (reason: string) => fail('REGISTRY_CREDENTIALS_INVALID', { reason });
  if (typeof username !== 'string' || username === '') throw refuse('the user name is empty');
  if (username.length > USERNAME_MAX) throw refuse(`the user name is longer than ${USERNAME_MAX} characters`);
  if (username.includes(':')) throw refuse('the user name contains ":"');
  if (/[\x00-\x1f\x7f]/.test(username)) throw refuse('the user name contains a control character');
  if (typeof password !== 'string' || password === '') throw refuse('the password is empty');
  if (password.length > PASSWORD_MAX) throw refuse(`the password is longer than ${PASSWORD_MAX} characters`);
  if (password.includes('\0')) throw refuse('the password contains a NUL character');
  return Object.freeze({ username, password });
}

export function sealCredentials(sealer: Sealer, host: string, credentials: RegistryCredentials): SealedCredentials {
  return { host: registryHost(host), username: credentials.username, passwordSealed: sealer.seal(credentials.password) };
}

export function openCredentials(sealer: Sealer, stored: { username: string; passwordSealed: string }): RegistryCredentials {
  return Object.freeze({ username: stored.username, password: sealer.open(stored.passwordSealed) });
}

/** A lookup over stored rows (the store's RegistryCredentials repository has `get`), opened on demand. */
export function credentialLookup(rows: { get(host: string): { username: string; passwordSealed: string } | undefined }, sealer: Sealer): CredentialLookup {
  return (host) => {
    const row = rows.get(registryHost(host));
    return row ? openCredentials(sealer, row) : undefined;
  };
}

/** The credentials stored for the image's registry (`Docker.io`, `index.docker.io` and `docker.io` alike). */
export function credentialsFor(ref: ImageReference, lookup: CredentialLookup): RegistryCredentials | undefined {
  return lookup(registryHost(ref.domain));
}

/**
 * The Engine API's `X-Registry-Auth` header value for a pull from `host`: base64url (with padding, as the
 * docker CLI writes it) of `{"username","password","serveraddress"}`. Docker Hub's server address is the
 * one `docker login` records. Undefined without credentials: an anonymous pull sends no header.
 */
export function engineRegistryAuth(host: string, credentials: RegistryCredentials | undefined): string | undefined {
  if (!credentials) return undefined;
  const normalized = registryHost(host);
  const serveraddress = normalized === 'docker.io' ? 'https://index.docker.io/v1/' : normalized;
  const json = JSON.stringify({ username: credentials.username, password: credentials.password, serveraddress });
  return Buffer.from(json, 'utf8').toString('base64').replace(/\+/g, '-').replace(/\//g, '_');
}
