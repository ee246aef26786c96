import { constants as fsConstants } from 'node:fs';
import { chmod, mkdir, open } from 'node:fs/promises';
import { join } from 'node:path';
import { fail } from '../errors/catalogue.ts';

export const FILE_MODE = 0o644;
export const EXEC_MODE = 0o755;
export const DIR_MODE = 0o755;

/** Year 10000: later mtimes are nonsense, and some filesystems reject them. */
const MAX_MTIME = 253_402_300_800;

// O_EXCL refuses to reuse a path and O_NOFOLLOW refuses links: belt and braces, since the staging
// folder is new and holds no links, but a bug elsewhere must not turn into a write outside it.
const CREATE_FLAGS = fsConstants.O_WRONLY | fsConstants.O_CREAT | fsConstants.O_EXCL | fsConstants.O_NOFOLLOW;

/**
 * The folder being extracted into, and what each path in it already is. Paths are canonical relative
 * paths (./entry-path.ts). Conflicts (a path used twice, a file used as a folder) are ARCHIVE_UNSAFE_ENTRY:
 * extracting them would mean one entry silently replacing or redirecting another.
 */
export class StagingTree {
  #root: string;
  #kinds = new Map<string, 'file' | 'dir'>();
  #dirs = 0;

  constructor(root: string) {
    this.#root = root;
  }

  /** Folders created so far, explicit entries and implied parents alike. */
  get dirs(): number {
    return this.#dirs;
  }

  async dir(path: string, name: string): Promise<void> {
    await this.#parents(path, name);
    const kind = this.#kinds.get(path);
    if (kind === 'file') throw fail('ARCHIVE_UNSAFE_ENTRY', { entry: name, reason: `"${path}" was already extracted as a file` });
    if (kind === 'dir') return; // tar lists a folder again when it is appended to; harmless
    await this.#mkdir(path, name);
  }

  /** Streams `body` into a new file, one awaited write at a time, then fixes mode and mtime. */
  async file(path: string, name: string, body: AsyncIterable<Uint8Array>, options: { executable: boolean; mtime: number }): Promise<void> {
    await this.#parents(path, name);
    const kind = this.#kinds.get(path);
    if (kind) throw fail('ARCHIVE_UNSAFE_ENTRY', { entry: name, reason: `"${path}" was already extracted as a ${kind === 'dir' ? 'directory' : 'file'}` });
    const mode = options.executable ? EXEC_MODE : FILE_MODE;
    const handle = await open(join(this.#root, path), CREATE_FLAGS, mode).catch((error: unknown) => {
      throw conflict(error, name);
    });
    this.#kinds.set(path, 'file');
    try {
      for await (const chunk of body) {
        let written = 0;
        while (written < chunk.length) written += (await handle.write(chunk, written, chunk.length - written)).bytesWritten;
      }
      await handle.chmod(mode); // the umask may have taken bits away at open
      // Keep the archive's mtime (build tools compare them) when it is a time the filesystem can store.
      // Node turns negative times into "now", so files from before 1970 get the extraction time.
      if (options.mtime >= 0 && options.mtime < MAX_MTIME) await handle.utimes(options.mtime, options.mtime);
    } finally {
      await handle.close();
    }
  }

  /** Creates missing parent folders; a parent that is a file in this archive is a conflict. */
  async #parents(path: string, name: string): Promise<void> {
    const segments = path.split('/');
    for (let i = 1; i < segments.length; i++) {
      const parent = segments.slice(0, i).join('/');
      const kind = this.#kinds.get(parent);
      if (kind === 'file') throw fail('ARCHIVE_UNSAFE_ENTRY', { entry: name, reason: `its parent "${parent}" is a file in this archive` });
      if (kind === undefined) await this.#mkdir(parent, name);
    }
  }

  async #mkdir(path: string, name: string): Promise<void> {
    await mkdir(join(this.#root, path), { mode: DIR_MODE }).catch((error: unknown) => {
      throw conflict(error, name);
    });
    await chmod(join(this.#root, path), DIR_MODE);
    this.#kinds.set(path, 'dir');
    this.#dirs++;
  }
}

/**
 * The filesystem refusing a path we believed free: names that differ only in case or Unicode form on a
 * case-insensitive or normalising filesystem, or names the filesystem cannot store.
 */
function conflict(error: unknown, name: string): unknown {
  const code = (error as { code?: string }).code;
  if (code === 'EEXIST' || code === 'ENOTDIR' || code === 'EISDIR') {
    return fail('ARCHIVE_UNSAFE_ENTRY', { entry: name, reason: 'it collides with an earlier entry on this filesystem (names differing only in case?)' });
  }
  if (code === 'ENAMETOOLONG') return fail('ARCHIVE_UNSAFE_ENTRY', { entry: name, reason: 'the name is too long for the filesystem' });
  if (code === 'EILSEQ' || code === 'EINVAL') return fail('ARCHIVE_UNSAFE_ENTRY', { entry: name, reason: 'the filesystem does not accept this name' });
  return error;
}
