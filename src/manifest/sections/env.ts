/** `env`: the environment variables every process gets; services reuse its name and value rules. */
import { catalogue } from '../../errors/catalogue.ts';
import { s } from '../schema-dsl.ts';
import { snippet } from '../show.ts';

export const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
export const ENV_NAME_HINT = 'letters, digits and `_`, not starting with a digit';
export const suggestEnvName = (key: string) => key.trim().replace(/[^A-Za-z0-9_]+/g, '_').replace(/^(?=\d)/, '_');

export const envValue = s.string({
  doc: 'The value, as text.',
  type: 'value',
  example: 'production',
  scalars: true,
  missingFix: (path) => `write ${snippet(path, '')} for an empty value, or give it one, such as ${snippet(path, 'production')}`,
});

export const env = s.record({
  doc: 'Environment variables (not secrets) that every process gets.',
  details:
    'Values are text. Numbers and true/false are accepted and kept exactly as written (`3.10` stays `3.10`). ' +
    'Keep secrets out of this file; berth stores them separately. PORT and BERTH_* are set by berth.',
  keys: {
    name: 'variable name',
    placeholder: '<NAME>',
    pattern: ENV_NAME,
    hint: ENV_NAME_HINT,
    suggest: suggestEnvName,
    reserved: {
      names: ['PORT'],
      prefixes: ['BERTH_'],
      message: (key) => catalogue.ENV_NAME_RESERVED({ name: key }).message,
      fix: (key) => `pick another name, such as \`APP_${key}\`; berth sets PORT and BERTH_* itself`,
    },
  },
  value: envValue,
  default: {},
  example: { NODE_ENV: 'production', LOG_LEVEL: 'info' },
});
