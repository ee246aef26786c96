/**
 * Registry logins (`berth registry login|list|logout`, `PUT|GET|DELETE /v1/registries`): the use cases
 * every surface calls, and the stored logins as the pulls and digest checks want them.
 *
 * A login is checked against the registry before anything is saved (a refused or unreachable registry
 * saves nothing), then stored with the password sealed (src/registry/credentials.ts). The password goes
 * to the registry and the store only: never to a log line, an event, an error or an answer.
 */
import { fail } from '../errors/catalogue.ts';
import { checkCredentials, credentialLookup, engineRegistryAuth, sealCredentials, type CredentialLookup } from '../registry/credentials.ts';
import { registryHost } from '../registry/hosts.ts';
import type { RegistryLogin } from '../store/registry-credentials.ts';
import type { DeployContext } from './context.ts';

export type { RegistryLogin } from '../store/registry-credentials.ts';

type LoginContext = Pick<DeployContext, 'store' | 'sealer' | 'clock' | 'log' | 'registry'>;

export interface LoginInput {
  /** As the user wrote it: `ghcr.io`, `Docker.io`, `https://index.docker.io/v1/`, `127.0.0.1:5000`. */
  host: string;
  username: string;
  password: string;
}

/**
 * Logs in to a registry: the host normalized (REGISTRY_HOST_INVALID), the credentials checked
 * (REGISTRY_CREDENTIALS_INVALID), then tried on the registry (REGISTRY_AUTH_FAILED, REGISTRY_UNREACHABLE,
 * REGISTRY_ERROR: nothing is saved). Only then are they stored, replacing the host's earlier login.
 */
export async function loginToRegistry(ctx: LoginContext, input: LoginInput): Promise<{ login: RegistryLogin; replaced: boolean }> {
  const host = registryHost(input.host);
  const credentials = checkCredentials(input);
  await ctx.registry.verify(host, credentials);
  const { store, sealer, clock } = ctx;
  const replaced = store.transaction(() => {
    const earlier = store.registryCredentials.get(host) !== undefined;
    store.registryCredentials.save(sealCredentials(sealer, host, credentials), clock.now());
    return earlier;
  });
  ctx.log.info(replaced ? 'registry login replaced' : 'registry login saved', { registry: host, username: credentials.username });
  return { login: loginOf(ctx, host), replaced };
}

/** Every stored login, by host: hosts and user names, never a password (not even sealed). */
export function listRegistryLogins(ctx: Pick<DeployContext, 'store'>): RegistryLogin[] {
  return ctx.store.registryCredentials.list();
}

/** Forgets the host's login; REGISTRY_LOGIN_NOT_FOUND when there is none. Returns the host as stored. */
export function logoutOfRegistry(ctx: Pick<DeployContext, 'store' | 'log'>, hostText: string): string {
  const host = registryHost(hostText);
  if (!ctx.store.registryCredentials.remove(host)) throw fail('REGISTRY_LOGIN_NOT_FOUND', { host });
  ctx.log.info('registry login removed', { registry: host });
  return host;
}

/** The stored logins, opened on demand, for the registry client (digest checks). */
export function storedCredentials(ctx: Pick<DeployContext, 'store' | 'sealer'>): CredentialLookup {
  return credentialLookup(ctx.store.registryCredentials, ctx.sealer);
}

/**
 * The stored logins as the docker driver's `registryAuth` wants them: the Engine API's `X-Registry-Auth`
 * value for a registry host, undefined (an anonymous pull) when berth has no login for it.
 */
export function storedEngineAuth(ctx: Pick<DeployContext, 'store' | 'sealer'>): (host: string) => string | undefined {
  const lookup = storedCredentials(ctx);
  return (host) => engineRegistryAuth(host, lookup(host));
}

function loginOf(ctx: Pick<DeployContext, 'store'>, host: string): RegistryLogin {
  const { username, createdAt, updatedAt } = ctx.store.registryCredentials.get(host)!;
  return { host, username, createdAt, updatedAt };
}
