import { fail } from '../errors/catalogue.ts';

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Names berth sets for every process: a user value would be silently overwritten, so it is refused. */
export const isReservedEnvName = (name: string) => name === 'PORT' || name.startsWith('BERTH_');

export function checkEnvName(name: string): void {
  if (!NAME.test(name) || name.length > 256) throw fail('ENV_NAME_INVALID', { name });
  if (isReservedEnvName(name)) throw fail('ENV_NAME_RESERVED', { name });
}


