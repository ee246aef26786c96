import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** berth's own files: module paths and stack frames name them. */
const INSTALL_DIR = fileURLToPath(new URL('../..', import.meta.url));
/** Nested data deeper than this is left as it is (what the API sends is far shallower). */
const MAX_DEPTH = 32;

/**
 * Replaces server paths in text that goes to a client: the data directory (with uploads, builds and
 * sockets in it) becomes `DATA`, as the docs write it, and berth's install folder `<berth>`. A client
 * learns nothing about the server's file layout from an error, a deployment's failure or an event.
 */
const redactors = new Map<string, (text: string) => string>();

/** The redactor of this data directory, made once (a daemon has one). */
export function pathRedactor(dataDir: string): (text: string) => string {
  let redactor = redactors.get(dataDir);
  if (!redactor) redactors.set(dataDir, (redactor = createPathRedactor(dataDir)));
  return redactor;
}

export function createPathRedactor(dataDir: string): (text: string) => string {
  const roots: [string, string][] = [];
  for (const dir of new Set([dataDir, realpathOrSelf(dataDir)])) roots.push([withoutSlash(dir), 'DATA']);
  for (const dir of new Set([INSTALL_DIR, realpathOrSelf(INSTALL_DIR)])) roots.push([withoutSlash(dir), '<berth>']);
  // Longest first, so a data directory inside the install folder is still `DATA`; `/` alone is never replaced.
  const usable = roots.filter(([dir]) => dir.length > 1).sort((a, b) => b[0].length - a[0].length);
  // A whole path only: `/srv/berth` is not the start of `/srv/berth-old`.
  const patterns = usable.map(([dir, name]) => [new RegExp(`(?:file://)?${escapeRegExp(dir)}(?![^/\\s"'\`),;:\\]])`, 'g'), name] as const);
  return (text) => {
    let out = text;
    for (const [pattern, name] of patterns) out = out.replace(pattern, name);
    return out;
  };
}

/** The same for every string in JSON-like data; keys stay as they are (`__proto__` included). */
export function redactDeep(value: unknown, redact: (text: string) => string, depth = 0): unknown {
  if (typeof value === 'string') return redact(value);
  if (value === null || typeof value !== 'object' || depth > MAX_DEPTH) return value;
  if (Array.isArray(value)) return value.map((item) => redactDeep(item, redact, depth + 1));
  // fromEntries defines keys, so a `__proto__` key stays an ordinary one.
  return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, redactDeep(item, redact, depth + 1)]));
}

function escapeRegExp(text: string): string {
  return text.replace(/[\\^$.*+?()[\]{}|]/g, '\\$&');
}

function realpathOrSelf(dir: string): string {
  try {
    return realpathSync(dir);
  } catch {
    return dir;
  }
}

function withoutSlash(dir: string): string {
  return dir.length > 1 && dir.endsWith('/') ? dir.slice(0, -1) : dir;
}
