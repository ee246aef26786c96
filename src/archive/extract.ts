/**
 * Safe extraction of an app upload (a gzip-compressed tar) into a new folder.
 *
 * All or nothing: entries go into a sibling staging folder (`<targetDir>.partial-<random>`) that is
 * renamed to `targetDir` only after the whole archive, gzip trailer included, proved valid. On any
 * failure the staging folder is removed, so neither it nor `targetDir` exists afterwards.
 *
 * Only regular files and directories come out, with canonical relative paths, mode 0644/0755 (the
 * owner's execute bit is the only one kept) and the archive's mtime; owners are ignored.
 *
 * What `berth deploy` never uploads (pack.ts: ALWAYS_IGNORE and ENV_IGNORE, such as `.git` and `.env*`)
 * is not extracted either, at any depth, so an upload made another way (curl, an older CLI) cannot put
 * secrets or a repository into a build: the process runtime builds in this folder, and the docker runtime
 * packs its context from it.
 *
 * Errors never name paths on the server: INTERNAL says what failed and the system error code, and keeps
 * the error itself (with its paths) as `cause`, for the server log.
 */
import { randomBytes } from 'node:crypto';
import { chmod, lstat, mkdir, rename, rm } from 'node:fs/promises';
import { resolve } from 'node:path';
import { fail, isBerthError, type BerthError } from '../errors/catalogue.ts';
import { ByteReader } from './byte-reader.ts';
import { entryPath } from './entry-path.ts';
import { gunzipLimited } from './gunzip.ts';
import { ignoredBy, type IgnoreRule } from './ignore.ts';
import { neverUploaded } from './pack.ts';
import { DIR_MODE, StagingTree } from './staging-tree.ts';
import { readTar, type TarEntry } from './tar-reader.ts';

export interface ExtractLimits {
  /** Size of the upload as sent (gzip bytes). Over it: BODY_TOO_LARGE. */
  maxCompressedBytes: number;
  /** Total size of the files once extracted (PAX/long-name data counts too). Over it: ARCHIVE_INVALID. */
  maxBytes: number;
  /** Entries in the archive (files and folders; PAX and long-name headers do not count). Over it: ARCHIVE_INVALID. */
  maxEntries: number;
}

export interface ExtractResult {
  files: number;
  /** Folders created, whether the archive listed them or they were implied by a file's path. */
  dirs: number;
  /** Bytes of file contents written. */
  bytes: number;
  /** Entries left out because no upload may hold them (`.env`, `.git/config`): how many, and the first few. */
  skipped: { count: number; first: string[] };
}

/**
 * Extracts `input` into `targetDir`, which must not exist yet (its parent must). Fails with BODY_TOO_LARGE,
 * ARCHIVE_INVALID or ARCHIVE_UNSAFE_ENTRY for a bad upload and INTERNAL for everything else (target exists,
 * disk full), always after removing the staging folder. The input is read to its end on success, and
 * left unconsumed (never destroyed) on failure: see ./gunzip.ts.
 */
export async function extractTarGz(input: AsyncIterable<Uint8Array>, targetDir: string, limits: ExtractLimits): Promise<ExtractResult> {
  for (const name of ['maxCompressedBytes', 'maxBytes', 'maxEntries'] as const) {
    // A missing limit would compare false with everything and quietly allow anything.
    const value = limits[name];
    if (typeof value !== 'number' || !(value >= 0)) throw fail('INTERNAL', { reason: `extract limit ${name} is ${value}` });
  }
  const target = resolve(targetDir);
  if (await lstat(target).then(() => true, () => false)) {
    throw internal(new Error(`cannot extract into ${target}: it already exists`), 'the folder for this upload already exists');
  }
  const staging = `${target}.partial-${randomBytes(6).toString('hex')}`;
  try {
    await mkdir(staging, { mode: DIR_MODE });
  } catch (error) {
    throw internal(error, 'creating the folder for this upload failed');
  }

  const gunzip = gunzipLimited(input, limits);
  try {
    await chmod(staging, DIR_MODE);
    const result = await extractEntries(new ByteReader(gunzip.output), new StagingTree(staging), limits);
    await rename(staging, target);
    return result;
  } catch (error) {
    gunzip.stop();
    // A failure to clean up must not hide why extraction failed; the caller sees the first error.
    await rm(staging, { recursive: true, force: true }).catch(() => undefined);
    throw isBerthError(error) ? error : internal(error, 'writing the upload to the server\'s disk failed');
  }
}

async function extractEntries(reader: ByteReader, tree: StagingTree, limits: ExtractLimits): Promise<ExtractResult> {
  let entries = 0;
  let files = 0;
  let bytes = 0;
  let budget = 0;
  const never: readonly IgnoreRule[] = neverUploaded();
  const skipped = { count: 0, first: [] as string[] };
  for await (const { entry, body } of readTar(reader)) {
    if (++entries > limits.maxEntries) {
      throw fail('ARCHIVE_INVALID', { reason: `it has more than ${limits.maxEntries} entries (limit maxEntries)` });
    }
    const kind = entryKind(entry);
    const path = entryPath(entry.name, kind);
    if (!path.ok) throw fail('ARCHIVE_UNSAFE_ENTRY', { entry: entry.name, reason: path.reason });
    // Checked against the declared size before any byte is written: a bomb is refused, not truncated.
    budget += entry.metaBytes + (kind === 'file' ? entry.size : 0);
    if (budget > limits.maxBytes) {
      throw fail('ARCHIVE_INVALID', { reason: `its contents add up to more than ${limits.maxBytes} bytes (limit maxBytes)` });
    }
    // The root entry (`./`) has no path. A skipped entry's data is passed over unread.
    if (path.path !== undefined && ignoredBy(never, path.path, kind === 'dir')) {
      if (skipped.count++ < SKIPPED_SHOWN) skipped.first.push(path.path);
      continue;
    }
    if (kind === 'dir') {
      if (path.path !== undefined) await tree.dir(path.path, entry.name);
      continue;
    }
    await tree.file(path.path!, entry.name, body, { executable: (entry.mode & 0o100) !== 0, mtime: entry.mtime });
    files++;
    bytes += entry.size;
  }
  return { files, dirs: tree.dirs, bytes, skipped };
}

/** Skipped entries named in the result (for the log); the rest are only counted. */
const SKIPPED_SHOWN = 20;

const REFUSED: Record<string, string> = {
  '3': 'it is a character device',
  '4': 'it is a block device',
  '6': 'it is a FIFO (named pipe)',
  K: 'it is a GNU long link name, which only links use (archives may not contain links)',
  S: 'it is a GNU sparse file, which berth does not extract',
};

/** Regular files and directories only; every other kind is refused by name. */
function entryKind(entry: TarEntry): 'file' | 'dir' {
  const refuse = (reason: string) => fail('ARCHIVE_UNSAFE_ENTRY', { entry: entry.name, reason });
  switch (entry.typeflag) {
    case '0':
    case '7': // contiguous file: a regular file everywhere that matters
      if (entry.sparse) throw refuse('it is a sparse file (GNU.sparse PAX records), which berth does not extract');
      return 'file';
    case '5':
      // A folder has no data; a size here would make readers disagree on where the next header is.
      if (entry.size !== 0) throw fail('ARCHIVE_INVALID', { reason: `the directory entry "${entry.name}" has a size of ${entry.size}` });
      return 'dir';
    case '1':
      throw refuse(`it is a hard link to "${entry.linkname}" (archives may not contain links)`);
    case '2':
      throw refuse(`it is a symbolic link to "${entry.linkname}" (archives may not contain links)`);
    default:
      throw refuse(REFUSED[entry.typeflag] ?? `it has the unsupported entry type '${entry.typeflag}'`);
  }
}

/** The message of a file system error names its path: the client gets the error code only. */
function internal(error: unknown, what: string): BerthError {
  const code = (error as { code?: unknown } | null)?.code;
  // A full disk is the server's state, not a bug: its own code, with what to do about it.
  if (code === 'ENOSPC' || code === 'EDQUOT') return fail('DISK_FULL', { what }).because(error);
  return fail('INTERNAL', { reason: typeof code === 'string' ? `${what} (${code})` : what }).because(error);
}
