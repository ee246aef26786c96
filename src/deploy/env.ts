import { fail } from '../errors/catalogue.ts';

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Names berth sets for every process: a user value would be silently overwritten, so it is refused. */
export const isReservedEnvName = (name: string) => name === 'PORT' || name.startsWith('BERTH_');

export function checkEnvName(name: string): void {
  if (!NAME.test(name) || name.length > 256) throw fail('ENV_NAME_INVALID', { name });
  if (isReservedEnvName(name)) throw fail('ENV_NAME_RESERVED', { name });
}



/**
 * How the app's env vars as set differ from the env the serving release runs with: names set or changed
 * since it was made (a failed rollout leaves its change saved; a rollback serves an older snapshot), and
 * names unset since that it still has. The next release takes the vars as set.
 */
export function envDrift(set: Record<string, string>, serving: Record<string, string> | null): { pending: Set<string>; unsetButServed: string[] } {
  const pending = new Set(Object.keys(set).filter((name) => serving?.[name] !== set[name]));
  const unsetButServed = serving ? Object.keys(serving).filter((name) => !(name in set)).sort() : [];
  return { pending, unsetButServed };
}
