import type { Socket } from 'node:net';
import type { ServerHttp2Stream } from 'node:http2';
import { LengthBody } from '../http1/body.ts';

/** Where a request body's end or fault is told. */
export interface BodyEvents {
  /** Every byte of the body is written upstream (its framing too). */
  onBodySent(): void;
  /** The client's body does not match its framing: the exchange must not go on. */
  onBodyError(reason: string): void;
}

const CRLF = Buffer.from('\r\n', 'latin1');
const LAST_CHUNK = Buffer.from('0\r\n\r\n', 'latin1');

/**
 * A request body moved from an HTTP/2 stream to an upstream socket, framed as the forwarded head says:
 * exactly Content-Length bytes (more or fewer is an error, never forwarded desynchronised), or berth's own
 * chunks. Backpressure both ways: a full upstream socket pauses the stream, and a paused stream stops
 * giving the client flow-control credit, so a slow app slows the client down instead of filling memory.
 * Nothing is read until a socket is attached: the body waits in the client's window while berth connects.
 */
export class RequestBody {
  readonly #stream: ServerHttp2Stream;
  readonly #length: LengthBody | null;
  readonly #events: BodyEvents;
  #socket: Socket | null = null;
  #listening = false;
  #waitingDrain = false;
  /** Some of the body went upstream: the request can no longer be sent to another target. */
  started = false;
  sent = false;
  #failed = false;

  /** `contentLength` -1: chunked. */
  constructor(stream: ServerHttp2Stream, contentLength: number, events: BodyEvents) {
    this.#stream = stream;
    this.#length = contentLength >= 0 ? new LengthBody(contentLength) : null;
    this.#events = events;
  }

  attach(socket: Socket): void {
    this.#socket = socket;
    if (!this.#listening) {
      this.#listening = true;
      this.#stream.on('data', (chunk: Buffer) => this.#onData(chunk));
      this.#stream.on('end', () => this.#onEnd());
    }
    this.#stream.resume();
  }

  /** Stops moving the body (the upstream is gone, or the exchange is over). */
  detach(): void {
    this.#socket = null;
    if (!this.#stream.destroyed) this.#stream.pause();
  }

  #onData(chunk: Buffer): void {
    const socket = this.#socket;
    if (socket === null) {
      // Paused between two attempts: keep the bytes for the next upstream.
      if (!this.sent && !this.#failed && !this.#stream.destroyed) this.#stream.unshift(chunk);
      return;
    }
    if (this.sent || this.#failed || chunk.length === 0) {
      if (chunk.length > 0) this.#fail('request body longer than its Content-Length');
      return;
    }
    let ok: boolean;
    if (this.#length !== null) {
      if (this.#length.consume(chunk, 0) < chunk.length) return this.#fail('request body longer than its Content-Length');
      ok = socket.write(chunk);
    } else {
      // One chunk per DATA frame; a zero-length one would end the body, so empty frames are skipped above.
      socket.cork();
      socket.write(`${chunk.length.toString(16)}\r\n`, 'latin1');
      socket.write(chunk);
      ok = socket.write(CRLF);
      socket.uncork();
    }
    this.started = true;
    if (this.#length !== null && this.#length.done) this.#finish();
    else if (!ok && !this.#waitingDrain) {
      this.#waitingDrain = true;
      this.#stream.pause();
      socket.once('drain', () => {
        this.#waitingDrain = false;
        if (this.#socket === socket && !this.#stream.destroyed) this.#stream.resume();
      });
    }
  }

  #onEnd(): void {
    if (this.sent || this.#failed || this.#socket === null) return;
    if (this.#length !== null) return this.#fail('request body shorter than its Content-Length');
    this.#socket.write(LAST_CHUNK);
    this.#finish();
  }

  #finish(): void {
    this.sent = true;
    this.#events.onBodySent();
  }

  #fail(reason: string): void {
    this.#failed = true;
    this.detach();
    this.#events.onBodyError(reason);
  }
}
