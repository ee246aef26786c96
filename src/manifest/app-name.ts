/** App names become hostname labels (`<name>.<base domain>`), so they follow DNS label rules. */

export const APP_NAME_MAX_LENGTH = 40;
/** Starts with a letter, ends with a letter or digit; a hostname label cannot end with a dash. */
export const APP_NAME_PATTERN = /^[a-z]([a-z0-9-]*[a-z0-9])?$/;

export function isValidAppName(name: string): boolean {
  return name.length <= APP_NAME_MAX_LENGTH && APP_NAME_PATTERN.test(name);
}

/**
 * Turns a package or folder name into an app name where that is mechanical: drops an npm `@scope/`,
 * lowercases, turns each run of other characters into one dash, trims dashes, cuts to 40 characters.
 * The result can still be invalid (`123` does not start with a letter); callers check.
 */
export function normalizeAppName(raw: string): string {
  const name = raw
    .trim()
    .replace(/^@[^/]*\//, '')
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '');
  return name.slice(0, APP_NAME_MAX_LENGTH).replace(/-+$/, '');
}
