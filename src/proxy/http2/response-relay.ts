import { constants, type ServerHttp2Stream } from 'node:http2';
import type { Socket } from 'node:net';
import { ChunkedBody, LengthBody, NoBody, UntilCloseBody, type BodyFramer } from '../http1/body.ts';
import { isHeadError } from '../http1/request-head.ts';
import { parseResponseHead, responseHasBody, type ResponseHead } from '../http1/response-head.ts';
import { interimHeaders, responseHeaders } from './response-headers.ts';

/** What a relay tells its exchange. */
export interface RelayEvents {
  /** The upstream's head is unusable; nothing went to the client. */
  onInvalidResponse(reason: string): void;
  /** The upstream sent the whole response (the stream is not ended yet: `finish`). */
  onResponseEnd(): void;
  /** The upstream's body broke its framing after the head went out. */
  onResponseBroken(): void;
}

export interface RelayRequest {
  method: string;
  /** The client sent `Expect: 100-continue`: the app's 100 is passed on. */
  expectsContinue: boolean;
  /** The app's Strict-Transport-Security value, or null. */
  hsts: string | null;
  /** A canary split's cookie for the client (proxy/split.ts), or null. */
  setCookie: string | null;
  maxHeadSize: number;
}

/**
 * One upstream HTTP/1.1 response relayed to an HTTP/2 stream: the head parsed by the HTTP/1 path's strict
 * parser and turned into HTTP/2 headers (hop-by-hop fields dropped), interim responses (103; 100 when
 * asked for) passed, the body framed by `http1/body.ts` with its chunked framing peeled off, and a slow
 * client pausing the upstream socket. `reusable` says whether the connection ended the exchange cleanly.
 */
export class ResponseRelay {
  readonly #stream: ServerHttp2Stream;
  readonly #upstream: Socket;
  readonly #req: RelayRequest;
  readonly #events: RelayEvents;
  #buf: Buffer | null = null;
  head: ResponseHead | null = null;
  #body: BodyFramer | null = null;
  /** The upstream connection may serve another request after this response. */
  reusable = true;
  /** Body bytes passed to the client (the access log's `bytes`). */
  bytes = 0;
  /** False when node ended the stream at its headers (HEAD, 204, 205, 304): the body is read, not sent. */
  #relay = true;
  /** The stream ends with an empty trailer block: only a whole response gets END_STREAM (see `#respond`). */
  #trailers = false;
  #whole = false;
  #closeAfterEnd = false;
  #waitingDrain = false;

  constructor(stream: ServerHttp2Stream, upstream: Socket, req: RelayRequest, events: RelayEvents) {
    this.#stream = stream;
    this.#upstream = upstream;
    this.#req = req;
    this.#events = events;
  }

  data(chunk: Buffer): void {
    if (this.head !== null) return this.#relayBody(chunk);
    const buf = this.#buf === null ? chunk : Buffer.concat([this.#buf, chunk]);
    this.#buf = null;
    const head = parseResponseHead(buf, this.#req.maxHeadSize);
    if (head === null) {
      this.#buf = buf;
      return;
    }
    if (isHeadError(head)) return this.#events.onInvalidResponse(head.reason);
    // berth never asks an app to switch protocols on this path: a 101 is a confused upstream.
    if (head.status === 101) return this.#events.onInvalidResponse('unexpected 101 Switching Protocols');
    const rest = buf.length === head.size ? null : buf.subarray(head.size);
    if (head.status < 200) {
      this.#interim(head);
      if (rest) this.data(rest);
      return;
    }
    if (!this.#respond(head)) return;
    if (rest) this.#relayBody(rest);
    else if (this.#body!.done) this.#events.onResponseEnd();
  }

  /** The upstream closed its side: the end of a body delimited by closing, else a broken exchange (false). */
  upstreamEnded(): boolean {
    if (!(this.#body instanceof UntilCloseBody)) return false;
    this.reusable = false;
    this.#events.onResponseEnd();
    return true;
  }

  /**
   * Ends the stream after a whole response; `closeAfter` then resets it with NO_ERROR (RFC 9113 8.1: answered
   * before the client's body was read, the rest is not wanted).
   */
  finish(closeAfter: boolean): void {
    const stream = this.#stream;
    this.#whole = true;
    this.#closeAfterEnd = closeAfter;
    if (stream.destroyed) return;
    if (!stream.writableEnded) stream.end();
    if (!this.#trailers && closeAfter) stream.close(constants.NGHTTP2_NO_ERROR);
  }

  /** 103 Early Hints pass; 100 Continue only to a client that asked for it; other 1xx stop here. */
  #interim(head: ResponseHead): void {
    if (head.status !== 103 && !(head.status === 100 && this.#req.expectsContinue)) return;
    try {
      this.#stream.additionalHeaders(head.status === 100 ? { ':status': 100 } : interimHeaders(head));
    } catch {
      // The stream went away: its 'close' ends the exchange.
    }
  }

  #respond(head: ResponseHead): boolean {
    this.#upstream.setTimeout(0);
    if (head.close) this.reusable = false;
    const hasBody = responseHasBody(this.#req.method, head.status);
    if (!hasBody) this.#body = new NoBody();
    else if (head.chunked) this.#body = new ChunkedBody();
    else if (head.contentLength >= 0) this.#body = new LengthBody(head.contentLength);
    else {
      this.#body = new UntilCloseBody();
      this.reusable = false;
    }
    // With a body, the stream ends by an empty trailer block, never by node on its own: node's close(code)
    // would otherwise end a cut response with END_STREAM before its RST_STREAM, and the client would take
    // a truncated body for a whole one.
    this.#trailers = hasBody && head.status !== 205;
    try {
      this.#stream.respond(responseHeaders(head, this.#req.hsts, this.#req.setCookie), { endStream: !hasBody, waitForTrailers: this.#trailers });
    } catch (error) {
      this.#events.onInvalidResponse((error as Error).message);
      return false;
    }
    if (this.#trailers) this.#stream.once('wantTrailers', () => this.#sendEnd());
    this.head = head;
    this.#relay = !this.#stream.writableEnded;
    return true;
  }

  #relayBody(chunk: Buffer): void {
    const body = this.#body!;
    const stream = this.#stream;
    let n: number;
    let ok = true;
    try {
      // HTTP/2 frames the body itself: chunked framing is peeled off, only the data goes to the client.
      n = body.consume(chunk, 0, (start, end) => {
        if (this.#relay) {
          this.bytes += end - start;
          ok = stream.write(chunk.subarray(start, end)) && ok;
        }
      });
    } catch {
      return this.#events.onResponseBroken();
    }
    if (n < chunk.length) this.reusable = false; // bytes past the response: never reuse this connection
    if (body.done) return this.#events.onResponseEnd();
    if (!ok && !this.#waitingDrain) {
      // A slow client: stop reading the app until the stream's window and buffer have room again.
      this.#waitingDrain = true;
      this.#upstream.pause();
      stream.once('drain', () => {
        this.#waitingDrain = false;
        if (!this.#upstream.destroyed) this.#upstream.resume();
      });
    }
  }

  /** The body is out: END_STREAM, only for a response that is whole. */
  #sendEnd(): void {
    if (!this.#whole || this.#stream.destroyed) return;
    const stream = this.#stream;
    try {
      stream.sendTrailers({});
    } catch {
      return; // reset meanwhile: nothing to end
    }
    // node submits the trailer block on the next turn (setImmediate): the reset follows it, not precedes it.
    if (this.#closeAfterEnd) {
      setImmediate(() => {
        if (!stream.destroyed && !stream.closed) stream.close(constants.NGHTTP2_NO_ERROR);
      });
    }
  }
}
