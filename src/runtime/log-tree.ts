/**
 * The tree host-side logs are kept in, by both the process driver and the docker driver's archive:
 * <root>/<app>/<release>/<file>. Its names become path components, so they must be safe as such.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

// No separators, no dot-only names, nothing a shell or ls would trip on.
const SAFE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

export function isSafeName(value: string): boolean {
  return SAFE.test(value) && !value.includes('..');
}

/** The first file in <root>/<app>/<release>/ that `matches`: how logs are found once the instance (and so its app) is no longer known. */
export function findInLogTree(root: string, matches: (name: string) => boolean): { app: string; release: string; name: string } | null {
  for (const app of list(root)) {
    for (const release of list(join(root, app))) {
      const name = list(join(root, app, release)).find(matches);
      if (name) return { app, release, name };
    }
  }
  return null;
}

function list(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}
