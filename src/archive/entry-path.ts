/**
 * Which names an uploaded archive may use. A name must stay inside the extraction folder on every
 * platform berth (or someone downloading a release) might use, so anything absolute, anything with
 * `..`, and anything Windows would read as a separator or drive is refused rather than "cleaned".
 */

/** Why `name` is unsafe, or undefined when it is fine. */
export function unsafeNameReason(name: string): string | undefined {
  if (name === '') return 'the name is empty';
  if (name.includes('\0')) return 'the name contains a NUL byte';
  if (name.startsWith('/')) return 'the path is absolute';
  if (name.includes('\\')) return 'the name contains a backslash (a Windows path separator)';
  if (/^[A-Za-z]:/.test(name)) return 'the path starts with a Windows drive letter';
  if (name.split('/').includes('..')) return 'the path contains a ".." segment';
  return undefined;
}

export type EntryPath = { ok: true; path: string | undefined } | { ok: false; reason: string };

/**
 * The entry's path inside the extraction folder, in canonical form: no leading `./`, no `.` or empty
 * segments, no trailing slash. `path` is undefined for the folder itself (the `./` entry that
 * `tar -C dir -czf x.tgz .` writes), which only a directory may be.
 */
export function entryPath(name: string, kind: 'file' | 'dir'): EntryPath {
  const reason = unsafeNameReason(name);
  if (reason) return { ok: false, reason };
  if (kind === 'file' && name.endsWith('/')) return { ok: false, reason: 'it is a regular file whose name ends with "/"' };
  const segments = name.split('/').filter((segment) => segment !== '' && segment !== '.');
  if (segments.length === 0 && kind === 'file') return { ok: false, reason: 'the name is empty' };
  return { ok: true, path: segments.length === 0 ? undefined : segments.join('/') };
}
