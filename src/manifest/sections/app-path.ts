/** Paths inside the app folder, as `dockerfile` and `static` take them. */
import { posix } from 'node:path';

/** Relative to the app folder and inside it: not absolute, no `..` segment, `/` between folders. */
export const APP_PATH = /^(?!\/)(?!\s*$)(?!(.*\/)?\.\.(\/|$))[^\\]+$/;
export const APP_PATH_HINT = 'a path inside the app folder, relative to it: not starting with `/`, without `..`, with `/` between folders';

/** `./public/` -> `public`, `a//b/./c` -> `a/b/c`, `./` -> `.`. */
export function normalizeAppPath(text: string): string {
  return posix.normalize(text).replace(/\/+$/, '') || '.';
}

/** `/public` -> `public`, `dist\site` -> `dist/site`; nothing for a path that leaves the app. */
export function suggestAppPath(text: string): string | undefined {
  const fixed = posix.normalize(text.trim().replace(/\\/g, '/').replace(/^\/+/, ''));
  return fixed.startsWith('..') ? undefined : normalizeAppPath(fixed);
}
