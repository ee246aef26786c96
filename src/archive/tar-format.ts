/**
 * The tar on-disk format, as pure functions over bytes: ustar headers (512-byte blocks), PAX extended
 * header records and GNU long names. Nothing here does I/O or decides policy; the reader and the writer
 * (./tar-reader.ts, ./tar-writer.ts) and extraction (./extract.ts) build on it.
 *
 * Errors are the catalogue's ARCHIVE_INVALID (the bytes are not a tar) and ARCHIVE_UNSAFE_ENTRY (a name
 * that cannot be decoded), so callers can let them through unchanged.
 */
import { fail } from '../errors/catalogue.ts';

export const BLOCK_SIZE = 512;

/** A header as decoded. `name` already joins the ustar prefix; typeflag '\0' (old regular file) reads as '0'. */
export interface TarHeader {
  name: string;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  /** Seconds since the epoch. */
  mtime: number;
  typeflag: string;
  linkname: string;
  /** 'ustar' (POSIX), 'gnu' (GNU tar's own magic: no prefix field) or 'v7' (no magic at all). */
  format: 'ustar' | 'gnu' | 'v7';
  uname: string;
  gname: string;
  devmajor: number;
  devminor: number;
}

/** What encodeHeader needs; everything but name and typeflag defaults to zero or empty. */
export interface HeaderFields {
  name: string;
  typeflag: string;
  mode?: number;
  uid?: number;
  gid?: number;
  size?: number;
  mtime?: number;
  linkname?: string;
  uname?: string;
  gname?: string;
  devmajor?: number;
  devminor?: number;
  /** Only written for the 'ustar' format, which is the default. */
  prefix?: string;
  format?: 'ustar' | 'gnu';
}

// Field offsets and widths of the ustar header.
const F = {
  name: [0, 100],
  mode: [100, 8],
  uid: [108, 8],
  gid: [116, 8],
  size: [124, 12],
  mtime: [136, 12],
  chksum: [148, 8],
  typeflag: [156, 1],
  linkname: [157, 100],
  magic: [257, 8], // magic (6) + version (2), compared as one
  uname: [265, 32],
  gname: [297, 32],
  devmajor: [329, 8],
  devminor: [337, 8],
  prefix: [345, 155],
} as const;
type FieldName = keyof typeof F;

const USTAR_MAGIC = Buffer.from('ustar\x0000', 'latin1');
const GNU_MAGIC = Buffer.from('ustar  \x00', 'latin1');
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** Bytes of zero padding after `size` bytes of data, up to the next block boundary. */
export function paddingFor(size: number): number {
  return (BLOCK_SIZE - (size % BLOCK_SIZE)) % BLOCK_SIZE;
}

export function isAllZeros(block: Uint8Array): boolean {
  for (let i = 0; i < block.length; i++) if (block[i] !== 0) return false;
  return true;
}

/** The header checksum: the byte sum with the checksum field itself counted as eight spaces. */
export function computeChecksum(block: Uint8Array, signed = false): number {
  let sum = 8 * 0x20;
  for (let i = 0; i < BLOCK_SIZE; i++) {
    if (i >= F.chksum[0] && i < F.chksum[0] + F.chksum[1]) continue;
    sum += signed && block[i] > 127 ? block[i] - 256 : block[i];
  }
  return sum;
}

/** Decodes one header block. Returns undefined for an all-zero block (end of archive). */
export function decodeHeader(block: Uint8Array): TarHeader | undefined {
  if (block.length !== BLOCK_SIZE) throw new RangeError(`a tar header is ${BLOCK_SIZE} bytes, got ${block.length}`);
  if (isAllZeros(block)) return undefined;
  let stored: number;
  try {
    stored = decodeNumber(block, 'chksum');
  } catch {
    stored = -1;
  }
  // Some historic tars summed signed bytes; GNU tar accepts both, and so do we.
  if (stored !== computeChecksum(block) && stored !== computeChecksum(block, true)) {
    throw fail('ARCHIVE_INVALID', { reason: 'a header checksum does not match (corrupt data, or not a tar archive)' });
  }
  const magic = Buffer.from(field(block, 'magic'));
  const format = magic.equals(USTAR_MAGIC) ? 'ustar' : magic.equals(GNU_MAGIC) ? 'gnu' : 'v7';
  let name = decodeName(field(block, 'name'));
  // GNU's format reuses the prefix bytes for other data, so only POSIX ustar has a prefix.
  if (format === 'ustar') {
    const prefix = decodeName(field(block, 'prefix'));
    if (prefix !== '') name = `${prefix}/${name}`;
  }
  const flag = String.fromCharCode(block[F.typeflag[0]]);
  const size = decodeNumber(block, 'size');
  if (size < 0) throw fail('ARCHIVE_INVALID', { reason: "a header's size field is negative" });
  return {
    name,
    mode: decodeNumber(block, 'mode'),
    uid: decodeNumber(block, 'uid'),
    gid: decodeNumber(block, 'gid'),
    size,
    mtime: decodeNumber(block, 'mtime'),
    typeflag: flag === '\0' ? '0' : flag,
    linkname: decodeString(field(block, 'linkname')),
    format,
    uname: decodeString(field(block, 'uname')),
    gname: decodeString(field(block, 'gname')),
    devmajor: decodeNumber(block, 'devmajor'),
    devminor: decodeNumber(block, 'devminor'),
  };
}

/** Encodes one header block with a valid checksum. Throws RangeError when a text field does not fit. */
export function encodeHeader(fields: HeaderFields): Buffer {
  const block = Buffer.alloc(BLOCK_SIZE);
  writeString(block, 'name', fields.name);
  encodeNumber(block, 'mode', fields.mode ?? 0);
  encodeNumber(block, 'uid', fields.uid ?? 0);
  encodeNumber(block, 'gid', fields.gid ?? 0);
  encodeNumber(block, 'size', fields.size ?? 0);
  encodeNumber(block, 'mtime', fields.mtime ?? 0);
  block.write(fields.typeflag, F.typeflag[0], 1, 'latin1');
  writeString(block, 'linkname', fields.linkname ?? '');
  (fields.format === 'gnu' ? GNU_MAGIC : USTAR_MAGIC).copy(block, F.magic[0]);
  writeString(block, 'uname', fields.uname ?? '');
  writeString(block, 'gname', fields.gname ?? '');
  encodeNumber(block, 'devmajor', fields.devmajor ?? 0);
  encodeNumber(block, 'devminor', fields.devminor ?? 0);
  if (fields.format !== 'gnu') writeString(block, 'prefix', fields.prefix ?? '');
  // Six octal digits, NUL, space: the layout every tar writes.
  block.write(computeChecksum(block).toString(8).padStart(6, '0') + '\0 ', F.chksum[0], 8, 'latin1');
  return block;
}

/** Octal when the value fits (width - 1 digits and a NUL), else GNU base-256: first byte 0x80, big-endian rest. */
function encodeNumber(block: Buffer, name: FieldName, value: number): void {
  const [offset, width] = F[name];
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`tar field ${name} cannot hold ${value}`);
  if (value < 8 ** (width - 1)) {
    block.write(value.toString(8).padStart(width - 1, '0') + '\0', offset, width, 'latin1');
    return;
  }
  let rest = BigInt(value);
  for (let i = width - 1; i > 0; i--) {
    block[offset + i] = Number(rest & 0xffn);
    rest >>= 8n;
  }
  block[offset] = 0x80;
}

/**
 * Octal (optionally space-padded, ended by space or NUL) or base-256 (high bit of the first byte set;
 * 0xff starts a negative two's-complement number, which GNU tar writes for times before 1970).
 */
function decodeNumber(block: Uint8Array, name: FieldName): number {
  const bytes = field(block, name);
  const invalid = () => fail('ARCHIVE_INVALID', { reason: `a header's ${name} field is not a valid number` });
  if (bytes[0] & 0x80) {
    let value = BigInt(bytes[0] & 0x7f);
    for (let i = 1; i < bytes.length; i++) value = (value << 8n) | BigInt(bytes[i]);
    if (bytes[0] === 0xff) value -= 1n << BigInt(8 * bytes.length - 1);
    if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER)) throw invalid();
    return Number(value);
  }
  const text = Buffer.from(bytes).toString('latin1');
  const match = /^ *([0-7]*)[ \0]*$/.exec(text);
  if (!match) throw invalid();
  const value = match[1] === '' ? 0 : parseInt(match[1], 8);
  if (!Number.isSafeInteger(value)) throw invalid();
  return value;
}

function field(block: Uint8Array, name: FieldName): Uint8Array {
  const [offset, width] = F[name];
  return block.subarray(offset, offset + width);
}

function untilNul(bytes: Uint8Array): Uint8Array {
  const end = bytes.indexOf(0);
  return end === -1 ? bytes : bytes.subarray(0, end);
}

/** Names must be exact: a name that is not UTF-8 would be silently changed by lossy decoding. */
function decodeName(bytes: Uint8Array): string {
  return decodeUtf8Name(untilNul(bytes));
}

function decodeUtf8Name(bytes: Uint8Array): string {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    throw fail('ARCHIVE_UNSAFE_ENTRY', { entry: Buffer.from(bytes).toString('utf8'), reason: 'the name is not valid UTF-8' });
  }
}

/** For fields berth only reports or ignores (link targets, owner names): lossy is fine. */
function decodeString(bytes: Uint8Array): string {
  return Buffer.from(untilNul(bytes)).toString('utf8');
}

function writeString(block: Buffer, name: FieldName, value: string): void {
  const [offset, width] = F[name];
  const bytes = Buffer.from(value, 'utf8');
  if (bytes.length > width) throw new RangeError(`tar field ${name} holds ${width} bytes, "${value}" has ${bytes.length}`);
  bytes.copy(block, offset);
}

/** Encodes PAX records (`<length> <key>=<value>\n`, the length counting the whole record, itself included). */
export function encodePax(records: Record<string, string>): Buffer {
  const parts: Buffer[] = [];
  for (const [key, value] of Object.entries(records)) {
    const body = Buffer.byteLength(` ${key}=${value}\n`);
    // The length counts its own digits: grow until stable (98 bytes of body -> "100 ...", not "99 ...").
    let length = body + 1;
    while (length !== body + String(length).length) length = body + String(length).length;
    parts.push(Buffer.from(`${length} ${key}=${value}\n`, 'utf8'));
  }
  return Buffer.concat(parts);
}

/** Decodes PAX records; a later record for the same key wins. Values are strict UTF-8. */
export function decodePax(data: Uint8Array): Map<string, string> {
  const records = new Map<string, string>();
  const malformed = (why: string) => fail('ARCHIVE_INVALID', { reason: `a PAX extended header is malformed (${why})` });
  let at = 0;
  while (at < data.length) {
    // GNU and libarchive pad the data with NULs in some versions; trailing NULs end the records.
    if (data[at] === 0 && data.subarray(at).every((b) => b === 0)) break;
    const space = data.indexOf(0x20, at);
    if (space === -1 || space - at > 20) throw malformed('no record length');
    const lengthText = Buffer.from(data.subarray(at, space)).toString('latin1');
    if (!/^[1-9][0-9]*$/.test(lengthText)) throw malformed(`bad record length "${lengthText}"`);
    const end = at + Number(lengthText);
    if (end > data.length || data[end - 1] !== 0x0a) throw malformed('record length does not match');
    const record = data.subarray(space + 1, end - 1);
    const equals = record.indexOf(0x3d);
    if (equals <= 0) throw malformed('record without key');
    const key = Buffer.from(record.subarray(0, equals)).toString('utf8');
    let value: string;
    try {
      value = strictUtf8.decode(record.subarray(equals + 1));
    } catch {
      throw malformed(`the value of "${key}" is not valid UTF-8`);
    }
    records.set(key, value);
    at = end;
  }
  return records;
}

/** A GNU long name ('L') entry's data is the name followed by a NUL. */
export function decodeLongName(data: Uint8Array): string {
  let end = data.length;
  while (end > 0 && data[end - 1] === 0) end--;
  return decodeUtf8Name(data.subarray(0, end));
}
