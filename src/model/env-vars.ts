/** The rules of an env var's name and value, the same for the CLI (checked before sending) and the server. */
import { fail } from '../errors/catalogue.ts';

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Names berth sets for every process: a user value would be silently overwritten, so it is refused. */
export const isReservedEnvName = (name: string) => name === 'PORT' || name.startsWith('BERTH_');

/**
 * Checks a name to set or remove. Every name the pattern allows is an ordinary variable, `toString` and
 * `__proto__` included: env vars travel in null-prototype records (currentVars, openEnv), as berth.yaml's do.
 */
export function checkEnvName(name: string): void {
  if (!NAME.test(name) || name.length > 256) throw fail('ENV_NAME_INVALID', { name });
  if (isReservedEnvName(name)) throw fail('ENV_NAME_RESERVED', { name });
}

/** C0 control characters other than TAB, LF and CR, and DEL: they break the rollout (NUL above all). */
const CONTROL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/;

/**
 * Values are text: TAB and line breaks are allowed (PEM keys span lines), other control characters are
 * refused with ENV_VALUE_INVALID naming the variable and the character, never the value.
 */
export function checkEnvValue(name: string, value: string): void {
  const found = CONTROL.exec(value);
  if (!found) return;
  const code = found[0].charCodeAt(0);
  const character = code === 0 ? 'a NUL character' : `the control character U+${code.toString(16).toUpperCase().padStart(4, '0')}`;
  throw fail('ENV_VALUE_INVALID', { name, character });
}
