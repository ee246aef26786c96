/**
 * Helpers for the archive tests: hand-built tar archives (including ones no honest tar would write)
 * and temporary folders. Test-only; nothing in berth imports this.
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeHeader, encodePax, paddingFor, type HeaderFields } from './tar-format.ts';

export interface RawEntry extends Partial<HeaderFields> {
  name: string;
  data?: string | Buffer;
  /** PAX records written in an 'x' header before this entry. */
  pax?: Record<string, string>;
  /** Written as a GNU 'L' entry before this entry. */
  longName?: string;
}

/** A tar of `entries`; `end: false` leaves out the two zero blocks. */
export function buildTar(entries: RawEntry[], options: { end?: boolean } = {}): Buffer {
  const parts: Buffer[] = [];
  const push = (fields: HeaderFields, data: Buffer) => {
    parts.push(encodeHeader({ ...fields, size: fields.size ?? data.length }), data, Buffer.alloc(paddingFor(data.length)));
  };
  for (const { data, pax, longName, ...fields } of entries) {
    if (pax) push({ name: 'PaxHeaders/x', typeflag: 'x' }, encodePax(pax));
    if (longName !== undefined) push({ name: '././@LongLink', typeflag: 'L', format: 'gnu' }, Buffer.from(longName + '\0'));
    const body = typeof data === 'string' ? Buffer.from(data) : (data ?? Buffer.alloc(0));
    push({ typeflag: '0', mode: 0o644, ...fields }, body);
  }
  if (options.end !== false) parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}

/** Feeds `data` in chunks of `size` bytes, the way a socket might. */
export async function* chunked(data: Uint8Array, size = 1000): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < data.length; i += size) yield data.subarray(i, i + size);
}

export async function collect(stream: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const part of stream) parts.push(Buffer.from(part));
  return Buffer.concat(parts);
}

export async function withTempDir<T>(run: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'berth-archive-'));
  try {
    return await run(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The names directly in `dir`, sorted. */
export async function listNames(dir: string): Promise<string[]> {
  return (await readdir(dir)).sort();
}
