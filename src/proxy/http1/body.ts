/**
 * Finds where a message body ends without copying it. The proxy forwards body bytes as they come
 * (chunked framing included, byte for byte) and only needs to know when the message is complete,
 * or, for an HTTP/1.0 client, to peel the chunk framing off (`onData`).
 */
export interface BodyFramer {
  /** Consumes bytes from buf[offset..]; returns how many belong to this body. Throws on malformed framing. */
  consume(buf: Buffer, offset: number, onData?: (start: number, end: number) => void): number;
  readonly done: boolean;
}

export class LengthBody implements BodyFramer {
  #remaining: number;
  constructor(length: number) {
    this.#remaining = length;
  }
  get done(): boolean {
    return this.#remaining === 0;
  }
  consume(buf: Buffer, offset: number, onData?: (start: number, end: number) => void): number {
    const take = Math.min(this.#remaining, buf.length - offset);
    this.#remaining -= take;
    if (take > 0) onData?.(offset, offset + take);
    return take;
  }
}

/** A body delimited by the connection closing (HTTP/1.0 style responses). */
export class UntilCloseBody implements BodyFramer {
  get done(): boolean {
    return false;
  }
  consume(buf: Buffer, offset: number, onData?: (start: number, end: number) => void): number {
    if (buf.length > offset) onData?.(offset, buf.length);
    return buf.length - offset;
  }
}

const S = {
  SIZE: 0,
  EXT: 1,
  SIZE_LF: 2,
  DATA: 3,
  DATA_CR: 4,
  DATA_LF: 5,
  TRAILER_START: 6,
  TRAILER_LINE: 7,
  TRAILER_LF: 8,
  END_LF: 9,
  DONE: 10,
} as const;

const MAX_LINE = 4096;
const CRLF = Buffer.from('\r\n', 'latin1');
const MAX_TRAILERS = 16 * 1024;

export class ChunkedBody implements BodyFramer {
  #state: number = S.SIZE;
  #size = 0;
  #digits = 0;
  #remaining = 0;
  #lineBytes = 0;
  #trailerBytes = 0;

  get done(): boolean {
    return this.#state === S.DONE;
  }

  consume(buf: Buffer, offset: number, onData?: (start: number, end: number) => void): number {
    let i = offset;
    const len = buf.length;
    while (i < len && this.#state !== S.DONE) {
      const c = buf[i];
      switch (this.#state) {
        case S.SIZE: {
          const digit = hexValue(c);
          if (digit !== -1) {
            if (++this.#digits > 13) throw new Error('chunk size too large');
            this.#size = this.#size * 16 + digit;
            i++;
          } else if (this.#digits === 0) {
            throw new Error('missing chunk size');
          } else if (c === 13) {
            this.#state = S.SIZE_LF;
            i++;
          } else if (c === 59 /* ; */ || c === 32 || c === 9) {
            this.#state = S.EXT;
            this.#lineBytes = 0;
            i++;
          } else throw new Error('invalid chunk size');
          break;
        }
        case S.EXT:
          // Extensions are dropped when the body is forwarded (see encodeChunks); control characters are refused.
          if (c === 13) this.#state = S.SIZE_LF;
          else if ((c < 32 && c !== 9) || c === 127 || ++this.#lineBytes > MAX_LINE) throw new Error('invalid chunk extension');
          i++;
          break;
        case S.SIZE_LF:
          if (c !== 10) throw new Error('expected LF after chunk size');
          i++;
          if (this.#size === 0) {
            this.#state = S.TRAILER_START;
          } else {
            this.#remaining = this.#size;
            this.#state = S.DATA;
          }
          this.#size = 0;
          this.#digits = 0;
          break;
        case S.DATA: {
          const take = Math.min(this.#remaining, len - i);
          if (take > 0) onData?.(i, i + take);
          this.#remaining -= take;
          i += take;
          if (this.#remaining === 0) this.#state = S.DATA_CR;
          break;
        }
        case S.DATA_CR:
          if (c !== 13) throw new Error('expected CRLF after chunk data');
          this.#state = S.DATA_LF;
          i++;
          break;
        case S.DATA_LF:
          if (c !== 10) throw new Error('expected CRLF after chunk data');
          this.#state = S.SIZE;
          i++;
          break;
        case S.TRAILER_START:
          if (c === 13) this.#state = S.END_LF;
          else {
            this.#state = S.TRAILER_LINE;
            this.#lineBytes = 0;
          }
          if (++this.#trailerBytes > MAX_TRAILERS) throw new Error('trailers too large');
          i++;
          break;
        case S.TRAILER_LINE:
          if (c === 13) this.#state = S.TRAILER_LF;
          else if (c === 10 || ++this.#lineBytes > MAX_LINE) throw new Error('invalid trailer');
          if (++this.#trailerBytes > MAX_TRAILERS) throw new Error('trailers too large');
          i++;
          break;
        case S.TRAILER_LF:
          if (c !== 10) throw new Error('expected LF after trailer');
          this.#state = S.TRAILER_START;
          i++;
          break;
        case S.END_LF:
          if (c !== 10) throw new Error('expected LF at end of chunked body');
          this.#state = S.DONE;
          i++;
          break;
      }
    }
    return i - offset;
  }
}

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

export class NoBody implements BodyFramer {
  get done(): boolean {
    return true;
  }
  consume(): number {
    return 0;
  }
}

const LAST_CHUNK = Buffer.from('0\r\n\r\n', 'latin1');

/**
 * A request body's data re-framed by berth: one chunk per data range a ChunkedBody reported (`ranges` holds
 * start, end pairs into `buf`), then the last chunk when `last`. Chunk sizes are berth's own, extensions
 * and trailers are dropped: whatever spelling the client used, the app reads the data berth read.
 */
export function encodeChunks(buf: Buffer, ranges: number[], last: boolean): Buffer {
  const parts: Buffer[] = [];
  for (let i = 0; i < ranges.length; i += 2) {
    const start = ranges[i];
    const end = ranges[i + 1];
    parts.push(Buffer.from(`${(end - start).toString(16)}\r\n`, 'latin1'), buf.subarray(start, end), CRLF);
  }
  if (last) parts.push(LAST_CHUNK);
  return Buffer.concat(parts);
}
