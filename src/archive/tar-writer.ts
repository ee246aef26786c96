/**
 * The header blocks `berth deploy` writes for each entry: plain ustar when the name is short ASCII,
 * otherwise a PAX extended header first (like `tar --format=pax`), which every tar since 2001 reads.
 */
import { BLOCK_SIZE, encodeHeader, encodePax, paddingFor } from './tar-format.ts';

export interface PackEntry {
  /** Relative `/`-separated path without a trailing slash. */
  path: string;
  type: 'file' | 'dir';
  size: number;
  /** 0o644 or 0o755. */
  mode: number;
  /** Seconds since the epoch. */
  mtime: number;
}

const NAME_FIELD = 100;
/** The largest size the 11 octal digits of the size field can hold; bigger needs PAX `size`. */
const MAX_OCTAL_SIZE = 8 ** 11 - 1;

/** The header block(s) for `entry`: an optional PAX header with its data, then the ustar header. */
export function entryHeaders(entry: PackEntry): Buffer {
  const name = entry.type === 'dir' ? `${entry.path}/` : entry.path;
  const mtime = Math.max(0, Math.floor(entry.mtime));
  const pax: Record<string, string> = {};
  if (Buffer.byteLength(name) > NAME_FIELD || /[^\x20-\x7e]/.test(name)) pax.path = name;
  if (entry.size > MAX_OCTAL_SIZE) pax.size = String(entry.size);

  const header = encodeHeader({
    name: pax.path ? fallbackName(name, entry.type) : name,
    typeflag: entry.type === 'dir' ? '5' : '0',
    mode: entry.mode,
    size: entry.type === 'dir' ? 0 : entry.size,
    mtime,
  });
  if (Object.keys(pax).length === 0) return header;

  const data = encodePax(pax);
  const paxHeader = encodeHeader({
    name: `PaxHeaders/${fallbackName(name, 'file')}`.slice(0, NAME_FIELD),
    typeflag: 'x',
    mode: 0o644,
    size: data.length,
    mtime,
  });
  return Buffer.concat([paxHeader, data, Buffer.alloc(paddingFor(data.length)), header]);
}

/** Zeros that fill the last block of `size` bytes of data. */
export function dataPadding(size: number): Buffer {
  return Buffer.alloc(paddingFor(size));
}

/** Two zero blocks end an archive. */
export function endOfArchive(): Buffer {
  return Buffer.alloc(2 * BLOCK_SIZE);
}

/** What a reader without PAX support would see: printable ASCII, cut to fit (keeping a folder's `/`). */
function fallbackName(name: string, type: 'file' | 'dir'): string {
  const ascii = name.replace(/\/$/, '').replace(/[^\x20-\x7e]/g, '_');
  return type === 'dir' ? `${ascii.slice(0, NAME_FIELD - 1)}/` : ascii.slice(0, NAME_FIELD);
}
