import { fail } from '../errors/catalogue.ts';

/**
 * Pull-based reading of exact byte counts from a chunked source. Nothing is read ahead of what the
 * caller asks for, so a slow consumer (a disk write) slows the producer down: that is the backpressure.
 * Running out of data early is ARCHIVE_INVALID, naming what was being read.
 */
export class ByteReader {
  #source: AsyncIterator<Uint8Array>;
  #chunk: Buffer = Buffer.alloc(0);
  #ended = false;
  #position = 0;

  constructor(source: AsyncIterator<Uint8Array>) {
    this.#source = source;
  }

  /** Bytes consumed so far. */
  get position(): number {
    return this.#position;
  }

  /** True when the source is exhausted and nothing is buffered. */
  async atEnd(): Promise<boolean> {
    return !(await this.#fill());
  }

  /** Exactly `length` bytes as one buffer (a view when they lie in one chunk): for headers and small metadata only. */
  async readExact(length: number, what: string): Promise<Buffer> {
    const parts: Buffer[] = [];
    for await (const part of this.chunks(length, what)) parts.push(part);
    return parts.length === 1 ? parts[0] : Buffer.concat(parts, length);
  }

  /** Yields `length` bytes as they arrive, without copying. The reader has moved past a chunk before it is yielded. */
  async *chunks(length: number, what: string): AsyncGenerator<Buffer> {
    let remaining = length;
    while (remaining > 0) {
      if (!(await this.#fill())) throw fail('ARCHIVE_INVALID', { reason: `it ends in the middle of ${what} (truncated)` });
      const take = Math.min(remaining, this.#chunk.length);
      const part = this.#chunk.subarray(0, take);
      this.#chunk = this.#chunk.subarray(take);
      this.#position += take;
      remaining -= take;
      yield part;
    }
  }

  async skip(length: number, what: string): Promise<void> {
    for await (const _ of this.chunks(length, what));
  }

  /** Everything left in the source, chunk by chunk. */
  async *rest(): AsyncGenerator<Buffer> {
    while (await this.#fill()) {
      const part = this.#chunk;
      this.#chunk = Buffer.alloc(0);
      this.#position += part.length;
      yield part;
    }
  }

  /** Makes sure some bytes are buffered; false at the end of the source. */
  async #fill(): Promise<boolean> {
    while (this.#chunk.length === 0) {
      if (this.#ended) return false;
      const next = await this.#source.next();
      if (next.done) {
        this.#ended = true;
        return false;
      }
      const value = next.value;
      this.#chunk = Buffer.isBuffer(value) ? value : Buffer.from(value.buffer, value.byteOffset, value.byteLength);
    }
    return true;
  }
}
