/**
 * `berth deploy`'s upload: the app folder as a gzip-compressed tar, built as it is sent.
 *
 * The folder is walked first (sorted, so the same tree gives the same archive) to know what goes in and
 * what was left out; the returned stream then reads each file in chunks while the consumer pulls.
 * Uploads hold only regular files and folders: links and special files are skipped and reported, and so
 * is any name that extraction (./entry-path.ts) would refuse.
 *
 * What is left out, in the order the rules apply (the last matching rule decides, as in .gitignore):
 * DEFAULT_IGNORE, then `.berthignore`, then `extraIgnore` (a build's .dockerignore), then ALWAYS_IGNORE
 * and ENV_IGNORE. Because those come last, no `!` line can bring .git, node_modules or an env file back.
 * A `keep` path and the folders it is in go in whatever the other rules say, but only those last ones
 * apply to them; everything else in those folders is still judged by all the rules, so an ignored folder
 * gives up only its kept paths. The docker runtime packs its build context with this same function, so
 * the upload and the build context follow one list of rules.
 */
import { constants as fsConstants } from 'node:fs';
import { lstat, open, readdir, readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Readable, pipeline } from 'node:stream';
import { createGzip } from 'node:zlib';
import type { Dirent } from 'node:fs';
import { fail } from '../errors/catalogue.ts';
import { unsafeNameReason } from './entry-path.ts';
import { compileIgnoreRule, ignoredBy, parseIgnore, type IgnoreRule } from './ignore.ts';
import { dataPadding, endOfArchive, entryHeaders, type PackEntry } from './tar-writer.ts';

export interface PackOptions {
  /** More ignore patterns (.berthignore syntax), applied after `.berthignore`, so they win over it. */
  extraIgnore?: string[];
  /**
   * Paths (relative, `/`-separated) that go in whatever the ignore files say, such as the Dockerfile of a
   * build, as docker itself always sends it. Their folders go in too, but not the rest of those folders'
   * contents unless the rules let it. ALWAYS_IGNORE and ENV_IGNORE still win.
   */
  keep?: string[];
}

export interface Skipped {
  path: string;
  reason: string;
}

export interface PackResult {
  /** The gzip-compressed tar. Errors (a file vanished or changed while packing) surface on it. */
  stream: Readable;
  /** Regular files included, in archive order. */
  files: string[];
  /** What was left out that the user may have expected to go: env files, links, special files. */
  skipped: Skipped[];
  /** Sum of the included files' sizes. */
  bytes: number;
}

/** Left out unless an ignore file re-includes them (`!.DS_Store`). */
export const DEFAULT_IGNORE = ['.berth/', '.DS_Store'];
/**
 * Never uploaded nor in a build context, at any depth, whatever the ignore files say. `.git` is a file in
 * worktrees and submodules, so neither pattern is limited to folders.
 */
export const ALWAYS_IGNORE = ['.git', 'node_modules'];
/**
 * Every name starting with `.env` (`.env`, `.env.production`, `.env.example`, `.envrc`): env files hold
 * secrets, which belong in `berth env set`. Like ALWAYS_IGNORE, nothing can opt one back in.
 */
export const ENV_IGNORE = ['.env*'];
export const ENV_REASON = 'env file (use `berth env set`)';
export const SYMLINK_REASON = 'symbolic link';

const CHUNK_SIZE = 64 * 1024;

export async function packDirectory(dir: string, options: PackOptions = {}): Promise<PackResult> {
  const root = resolve(dir);
  const info = await stat(root).catch(() => undefined);
  if (!info?.isDirectory()) throw fail('USAGE', { message: `cannot upload ${dir}: it is not a folder`, command: 'deploy' });

  const berthignore = await readFile(join(root, '.berthignore'), 'utf8').catch((error: { code?: string }) => {
    if (error.code === 'ENOENT') return '';
    throw error;
  });
  const { rules, always, envRules } = packRules({ berthignore, extraIgnore: options.extraIgnore });

  const entries: PackEntry[] = [];
  const skipped: Skipped[] = [];
  await walk({ root, rel: '', rules, always, envRules, kept: keptPaths(options.keep ?? []), entries, skipped });

  const files = entries.filter((entry) => entry.type === 'file');
  const stream = createGzip();
  // pipeline destroys the gzip stream with the source's error, so the consumer sees it.
  pipeline(Readable.from(tarChunks(root, entries), { objectMode: false }), stream, () => undefined);
  return { stream, files: files.map((file) => file.path), skipped, bytes: files.reduce((sum, file) => sum + file.size, 0) };
}

/**
 * The rules packDirectory applies, in order (pure): defaults, the user's patterns, and last the exclusions
 * nothing can undo. `always` is that last part (ALWAYS_IGNORE and ENV_IGNORE, the only rules `keep` paths
 * obey) and `envRules` the ones whose matches are reported as env files; both are tails of `rules`.
 */
export function packRules(input: { berthignore?: string; extraIgnore?: string[] }): { rules: IgnoreRule[]; always: IgnoreRule[]; envRules: IgnoreRule[] } {
  const envRules = compileAll(ENV_IGNORE);
  const always = [...compileAll(ALWAYS_IGNORE), ...envRules];
  const rules = [...compileAll(DEFAULT_IGNORE), ...parseIgnore(input.berthignore ?? ''), ...compileAll(input.extraIgnore ?? []), ...always];
  return { rules, always, envRules };
}

/**
 * ALWAYS_IGNORE and ENV_IGNORE as rules (`ignoredBy` them): what no upload holds, whoever packed it. The
 * server's extraction (./extract.ts) leaves out what they match, like packDirectory does.
 */
export function neverUploaded(): IgnoreRule[] {
  return packRules({}).always;
}

/** `./a/b/c` -> `a`, `a/b`, `a/b/c`: each kept path and the folders it is in, as the walk spells them. */
function keptPaths(keep: string[]): Set<string> {
  const kept = new Set<string>();
  for (const path of keep) {
    const segments = path.split('/').filter((segment) => segment !== '' && segment !== '.');
    segments.forEach((_, i) => kept.add(segments.slice(0, i + 1).join('/')));
  }
  return kept;
}

interface Walk {
  root: string;
  rel: string;
  rules: IgnoreRule[];
  always: IgnoreRule[];
  envRules: IgnoreRule[];
  kept: Set<string>;
  entries: PackEntry[];
  skipped: Skipped[];
}

/**
 * Depth first, names sorted by code unit; a folder's entry comes before its contents. A kept path (or a
 * folder one is in) is judged by the `always` rules only, so the walk goes into its folders even when they
 * are ignored; their other contents are judged by all the rules, which exclude them with their folder.
 */
async function walk(w: Walk): Promise<void> {
  const dirents = await readdir(join(w.root, w.rel), { withFileTypes: true });
  dirents.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const dirent of dirents) {
    const path = w.rel === '' ? dirent.name : `${w.rel}/${dirent.name}`;
    const rule = ignoredBy(w.kept.has(path) ? w.always : w.rules, path, dirent.isDirectory());
    if (rule) {
      if (w.envRules.includes(rule)) w.skipped.push({ path, reason: ENV_REASON });
      continue; // not descending: everything under an ignored folder stays out too, as in git
    }
    if (dirent.isSymbolicLink()) {
      w.skipped.push({ path, reason: SYMLINK_REASON });
      continue;
    }
    if (!dirent.isDirectory() && !dirent.isFile()) {
      w.skipped.push({ path, reason: `not a regular file (${specialKind(dirent)})` });
      continue;
    }
    const unsafe = unsafeNameReason(path);
    if (unsafe) {
      w.skipped.push({ path, reason: `berth cannot upload this name: ${unsafe}` });
      continue;
    }
    const info = await lstat(join(w.root, path));
    const mtime = info.mtimeMs / 1000;
    if (dirent.isDirectory()) {
      w.entries.push({ path, type: 'dir', size: 0, mode: 0o755, mtime });
      await walk({ ...w, rel: path });
    } else {
      w.entries.push({ path, type: 'file', size: info.size, mode: info.mode & 0o100 ? 0o755 : 0o644, mtime });
    }
  }
}

async function* tarChunks(root: string, entries: PackEntry[]): AsyncGenerator<Buffer> {
  for (const entry of entries) {
    yield entryHeaders(entry);
    if (entry.type !== 'file' || entry.size === 0) continue;
    yield* fileChunks(join(root, entry.path), entry.size);
    if (entry.size % 512 !== 0) yield dataPadding(entry.size);
  }
  yield endOfArchive();
}

/** Exactly `size` bytes of the file, in chunks; a file that changed size since the walk fails the stream. */
async function* fileChunks(path: string, size: number): AsyncGenerator<Buffer> {
  const handle = await open(path, fsConstants.O_RDONLY | fsConstants.O_NOFOLLOW);
  try {
    for (let left = size; left > 0; ) {
      const want = Math.min(CHUNK_SIZE, left);
      const { bytesRead, buffer } = await handle.read(Buffer.allocUnsafe(want), 0, want, null);
      if (bytesRead === 0) throw new Error(`${path} shrank while it was being packed; deploy again`);
      left -= bytesRead;
      yield buffer.subarray(0, bytesRead);
    }
    if ((await handle.read(Buffer.alloc(1), 0, 1, null)).bytesRead > 0) {
      throw new Error(`${path} grew while it was being packed; deploy again`);
    }
  } finally {
    await handle.close();
  }
}

function compileAll(patterns: string[]): IgnoreRule[] {
  return patterns.flatMap((pattern) => compileIgnoreRule(pattern) ?? []);
}

function specialKind(dirent: Dirent): string {
  if (dirent.isFIFO()) return 'FIFO';
  if (dirent.isSocket()) return 'socket';
  if (dirent.isCharacterDevice()) return 'character device';
  if (dirent.isBlockDevice()) return 'block device';
  return 'unknown type';
}
