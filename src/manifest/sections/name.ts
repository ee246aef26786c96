/** `name`: the app's name, which is also the hostname label it is served at. */
import { APP_NAME_MAX_LENGTH, APP_NAME_PATTERN, normalizeAppName } from '../app-name.ts';
import { s } from '../schema-dsl.ts';

export const name = s.string({
  doc: 'App name; the app is served at <name>.<base domain>, so it must work as a hostname label.',
  type: 'app name',
  example: 'hello',
  optional: true,
  unset: 'the package.json "name" without its @scope/, else the folder name, lowercased with dashes',
  maxLength: APP_NAME_MAX_LENGTH,
  pattern: APP_NAME_PATTERN,
  patternHint: 'lowercase letters, digits and dashes, starting with a letter and not ending with a dash',
  suggest: normalizeAppName,
});
