import { fail } from '../errors/catalogue.ts';
import type { Manifest } from '../manifest/schema.ts';

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Names berth sets for every process: a user value would be silently overwritten, so it is refused. */
export const isReservedEnvName = (name: string) => name === 'PORT' || name.startsWith('BERTH_');

export function checkEnvName(name: string): void {
  if (!NAME.test(name) || name.length > 256) throw fail('ENV_NAME_INVALID', { name });
  if (isReservedEnvName(name)) throw fail('ENV_NAME_RESERVED', { name });
}

/**
 * A release's environment: the manifest's plain defaults, overridden by the values set with
 * `berth env set`. Only the latter are secrets (masked in logs, never shown without --reveal).
 */
export function composeEnv(manifest: Manifest, vars: Record<string, string>): { env: Record<string, string>; secrets: string[] } {
  return {
    env: { ...manifest.env, ...vars },
    secrets: Object.values(vars).filter((value) => value.length >= 4),
  };
}
