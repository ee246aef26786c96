/**
 * Finding and reading berth.yaml (or berth.yml) in a folder. The file is opened once and its size checked
 * on the open handle before a byte is read, so a huge file costs nothing, and one that grows meanwhile is
 * still read no further than the limit.
 */
import { constants as fsConstants } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { fail } from '../errors/catalogue.ts';
import { MANIFEST_LIMITS, sizeIssue } from './limits.ts';

/** Looked for in this order. */
export const MANIFEST_FILES = ['berth.yaml', 'berth.yml'] as const;

export interface ManifestFile {
  name: (typeof MANIFEST_FILES)[number];
  /** The file's path, `dir` joined with its name. */
  path: string;
  text: string;
}

export interface ReadOptions {
  /**
   * How errors name the file: its path by default (the CLI, on the user's own machine). The server
   * passes the bare name, since its paths under the data directory mean nothing to the user.
   */
  shown?: (name: string, path: string) => string;
}

/**
 * Reads `dir/berth.yaml` or `dir/berth.yml`; undefined when neither exists. Throws MANIFEST_INVALID when
 * both exist (berth would silently ignore one), when the file is not a regular file, or when it is larger
 * than MANIFEST_LIMITS.maxBytes.
 */
export async function readManifestFile(dir: string, options: ReadOptions = {}): Promise<ManifestFile | undefined> {
  const shown = options.shown ?? ((_name: string, path: string) => path);
  const found: { name: ManifestFile['name']; path: string; handle: FileHandle }[] = [];
  try {
    for (const name of MANIFEST_FILES) {
      const path = join(dir, name);
      const handle = await openIfExists(path);
      if (handle) found.push({ name, path, handle });
    }
    if (found.length > 1) {
      throw fail('MANIFEST_INVALID', {
        file: shown(found[0].name, found[0].path),
        issues: [{ path: '', message: `both ${MANIFEST_FILES.join(' and ')} exist, and berth reads only one`, fix: `merge them into ${MANIFEST_FILES[0]} and delete ${MANIFEST_FILES[1]}` }],
      });
    }
    if (found.length === 0) return undefined;
    const [{ name, path, handle }] = found;
    const file = shown(name, path);
    const info = await handle.stat();
    if (!info.isFile()) {
      const what = info.isDirectory() ? 'a folder' : 'not a regular file';
      throw fail('MANIFEST_INVALID', { file, issues: [{ path: '', message: `it is ${what}`, fix: `make ${name} a file of YAML text` }] });
    }
    const tooBig = sizeIssue(info.size);
    if (tooBig) throw fail('MANIFEST_INVALID', { file, issues: [tooBig] });
    const bytes = await readAtMost(handle, MANIFEST_LIMITS.maxBytes + 1);
    const grown = sizeIssue(bytes.length);
    if (grown) throw fail('MANIFEST_INVALID', { file, issues: [grown] });
    return { name, path, text: bytes.toString('utf8') };
  } finally {
    await Promise.all(found.map(({ handle }) => handle.close().catch(() => undefined)));
  }
}

/** O_NONBLOCK: opening a FIFO named berth.yaml must not wait for a writer. */
async function openIfExists(path: string): Promise<FileHandle | undefined> {
  try {
    return await open(path, fsConstants.O_RDONLY | fsConstants.O_NONBLOCK);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

async function readAtMost(handle: FileHandle, limit: number): Promise<Buffer> {
  const buffer = Buffer.alloc(limit);
  let filled = 0;
  while (filled < limit) {
    const { bytesRead } = await handle.read(buffer, filled, limit - filled, filled);
    if (bytesRead === 0) break;
    filled += bytesRead;
  }
  return buffer.subarray(0, filled);
}
