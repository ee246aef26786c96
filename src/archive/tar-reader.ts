/**
 * Turns an uncompressed tar stream into logical entries: PAX ('x') and GNU long-name ('L') headers are
 * applied to the entry that follows, PAX global headers ('g') are read and ignored. Every other typeflag
 * is passed on as it is; what is allowed is extraction's decision (./extract.ts), not the reader's.
 *
 * End of archive: the first all-zero block ends the archive, and everything after it must be zeros too
 * (the second end block and record padding; GNU tar writes up to 10 KiB, we accept up to 1 MiB). A
 * stream that ends exactly on a header boundary without end blocks is also accepted, as GNU tar does:
 * the gzip trailer (CRC and length) already proves the upload was not cut short, so the only archives
 * this admits are ones written without end blocks, never truncated ones.
 */
import { fail } from '../errors/catalogue.ts';
import type { ByteReader } from './byte-reader.ts';
import { BLOCK_SIZE, decodeHeader, decodeLongName, decodePax, isAllZeros, paddingFor } from './tar-format.ts';

export interface TarEntry {
  /** The header name, or the GNU long name, or the PAX `path` (in rising precedence). Not yet validated. */
  name: string;
  typeflag: string;
  size: number;
  mode: number;
  /** Seconds since the epoch (PAX mtimes may have a fraction). */
  mtime: number;
  linkname: string;
  /** True when PAX GNU.sparse.* records say the data is a sparse map, not the file's bytes. */
  sparse: boolean;
  /** Bytes of PAX / long-name data read for this entry, so callers can count them against a size limit. */
  metaBytes: number;
}

export interface TarItem {
  entry: TarEntry;
  /** The entry's data; whatever the caller does not read is skipped before the next item. */
  body: AsyncIterable<Buffer>;
}

/** Extended headers hold names and a few numbers; anything bigger is not an archive berth wants. */
export const MAX_META_BYTES = 1024 * 1024;
/** Real archives put at most 'g', 'x' and 'L' before an entry; endless runs of them would be free work. */
export const MAX_META_RUN = 8;
export const MAX_TRAILING_BYTES = 1024 * 1024;

export async function* readTar(reader: ByteReader): AsyncGenerator<TarItem> {
  let pax = new Map<string, string>();
  let longName: string | undefined;
  let metaBytes = 0;
  let metaRun = 0;
  // 'x' and 'L' describe the next entry, so one must follow; 'g' stands alone (`git archive` always
  // starts with one holding the commit id, and for an empty tree writes nothing else).
  let pending = false;
  for (;;) {
    if (await reader.atEnd()) {
      if (pending) throw fail('ARCHIVE_INVALID', { reason: 'it ends after an extended header without its entry' });
      return;
    }
    const block = await reader.readExact(BLOCK_SIZE, 'a header');
    if (isAllZeros(block)) {
      if (pending) throw fail('ARCHIVE_INVALID', { reason: 'an extended header is followed by the end of the archive' });
      await checkTrailer(reader);
      return;
    }
    const header = decodeHeader(block)!;
    if (header.typeflag === 'x' || header.typeflag === 'g' || header.typeflag === 'L') {
      if (++metaRun > MAX_META_RUN) throw fail('ARCHIVE_INVALID', { reason: `more than ${MAX_META_RUN} extended headers in a row` });
      if (header.size > MAX_META_BYTES) {
        throw fail('ARCHIVE_INVALID', { reason: `an extended header of ${header.size} bytes is larger than ${MAX_META_BYTES}` });
      }
      const data = await reader.readExact(header.size, 'an extended header');
      await reader.skip(paddingFor(header.size), 'an extended header');
      metaBytes += header.size;
      pending ||= header.typeflag !== 'g';
      if (header.typeflag === 'x') pax = new Map([...pax, ...decodePax(data)]);
      else if (header.typeflag === 'L') longName = decodeLongName(data);
      continue;
    }

    const entry = applyPax(
      { name: longName ?? header.name, typeflag: header.typeflag, size: header.size, mode: header.mode, mtime: header.mtime, linkname: header.linkname, sparse: false, metaBytes },
      pax,
    );
    pax = new Map();
    longName = undefined;
    metaBytes = 0;
    metaRun = 0;
    pending = false;

    let remaining = entry.size;
    const what = `the data of "${entry.name}"`;
    const body = (async function* () {
      for await (const part of reader.chunks(remaining, what)) {
        remaining -= part.length;
        yield part;
      }
    })();
    yield { entry, body };
    await reader.skip(remaining + paddingFor(entry.size), what);
  }
}

/** PAX records override the header; an empty value means "use the header's". Other keys are ignored. */
function applyPax(entry: TarEntry, pax: Map<string, string>): TarEntry {
  const path = pax.get('path');
  if (path) entry.name = path;
  const linkpath = pax.get('linkpath');
  if (linkpath) entry.linkname = linkpath;
  const size = pax.get('size');
  if (size) {
    if (!/^[0-9]+$/.test(size) || !Number.isSafeInteger(Number(size))) {
      throw fail('ARCHIVE_INVALID', { reason: `the PAX size "${size}" of "${entry.name}" is not a valid size` });
    }
    entry.size = Number(size);
  }
  const mtime = pax.get('mtime');
  if (mtime) {
    if (!/^-?[0-9]+(\.[0-9]+)?$/.test(mtime)) {
      throw fail('ARCHIVE_INVALID', { reason: `the PAX mtime "${mtime}" of "${entry.name}" is not a valid time` });
    }
    entry.mtime = Number(mtime);
  }
  entry.sparse = [...pax.keys()].some((key) => key.startsWith('GNU.sparse.'));
  return entry;
}

async function checkTrailer(reader: ByteReader): Promise<void> {
  const start = reader.position;
  for await (const part of reader.rest()) {
    if (!isAllZeros(part)) throw fail('ARCHIVE_INVALID', { reason: 'there is data after the end-of-archive marker' });
    if (reader.position - start > MAX_TRAILING_BYTES) {
      throw fail('ARCHIVE_INVALID', { reason: `more than ${MAX_TRAILING_BYTES} bytes of padding follow the end-of-archive marker` });
    }
  }
}
