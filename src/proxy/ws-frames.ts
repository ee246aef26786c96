/**
 * Follows WebSocket frame boundaries in one direction of a tunnel (RFC 6455 5.2) without buffering:
 * the proxy may only inject its own close frame between two frames, never inside one.
 */
export class FrameBoundary {
  #header: number[] = [];
  #need = 2;
  #payload = 0;

  /** True when the bytes seen so far end exactly at a frame boundary. */
  get atBoundary(): boolean {
    return this.#payload === 0 && this.#header.length === 0;
  }

  /**
   * Feeds bytes; returns the offset in `chunk` right after the last complete frame when `stopAtBoundary`
   * is set (so the caller can forward only up to there), else chunk.length.
   */
  feed(chunk: Buffer, stopAtBoundary = false): number {
    let i = 0;
    while (i < chunk.length) {
      if (this.#payload > 0) {
        const take = Math.min(this.#payload, chunk.length - i);
        this.#payload -= take;
        i += take;
        if (this.#payload === 0 && stopAtBoundary) return i;
        continue;
      }
      if (stopAtBoundary && this.#header.length === 0) return i;
      this.#header.push(chunk[i++]);
      if (this.#header.length === 2) {
        const len7 = this.#header[1] & 0x7f;
        const masked = (this.#header[1] & 0x80) !== 0;
        this.#need = 2 + (len7 === 126 ? 2 : len7 === 127 ? 8 : 0) + (masked ? 4 : 0);
      }
      if (this.#header.length >= 2 && this.#header.length === this.#need) {
        this.#payload = payloadLength(this.#header);
        this.#header = [];
        this.#need = 2;
        if (this.#payload === 0 && stopAtBoundary) return i;
      }
    }
    return i;
  }
}

function payloadLength(header: number[]): number {
  const len7 = header[1] & 0x7f;
  if (len7 < 126) return len7;
  if (len7 === 126) return (header[2] << 8) | header[3];
  let length = 0;
  for (let i = 2; i < 10; i++) length = length * 256 + header[i];
  return length;
}

/** An unmasked (server-to-client) close frame with a status code and a short reason. */
export function closeFrame(code: number, reason: string): Buffer {
  const text = Buffer.from(reason, 'utf8').subarray(0, 123);
  const frame = Buffer.alloc(4 + text.length);
  frame[0] = 0x88;
  frame[1] = 2 + text.length;
  frame.writeUInt16BE(code, 2);
  text.copy(frame, 4);
  return frame;
}
