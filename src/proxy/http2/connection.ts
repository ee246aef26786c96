import { constants, performServerHandshake, type ServerHttp2Session, type ServerHttp2Stream } from 'node:http2';
import { performance } from 'node:perf_hooks';
import type { TLSSocket } from 'node:tls';
import type { ConnectionContext } from '../connection.ts';
import { StreamExchange, type ExchangeScope } from './exchange.ts';
import { defaultResetGuard, ResetGuard, type ResetGuardOptions } from './reset-guard.ts';
import { sessionOptions } from './session-options.ts';

/**
 * One TLS connection that negotiated ALPN `h2`: an HTTP/2 session whose streams are each forwarded as one
 * HTTP/1.1 exchange over the targets' keep-alive pools (StreamExchange). The listener hands the socket
 * over right after the handshake; from then on the session owns it. Limits are set once per session
 * (session-options.ts); rapid resets are counted here (reset-guard.ts). Nothing a client sends can throw
 * out of this class: session and stream errors end the session or the stream, never the process.
 */
export class Http2Connection {
  readonly socket: TLSSocket;
  readonly #session: ServerHttp2Session;
  readonly #resets: ResetGuard;
  readonly #scope: ExchangeScope;
  /** Streams whose exchange is not over. */
  #active = 0;

  constructor(socket: TLSSocket, ctx: ConnectionContext, resetGuard: ResetGuardOptions = defaultResetGuard) {
    this.socket = socket;
    const ip = socket.remoteAddress ?? '';
    this.#scope = {
      ctx,
      clientIp: ip.startsWith('::ffff:') ? ip.slice(7) : ip,
      ended: (reset) => this.#ended(reset),
    };
    this.#resets = new ResetGuard(resetGuard, performance.now());
    socket.setNoDelay(true);
    // The session keeps time from here (idle timeout below); a handshake timer must not cut it.
    socket.setTimeout(0);
    socket.on('error', () => {}); // the session sees the error too and ends itself
    const session = performServerHandshake(socket, sessionOptions(ctx.options));
    this.#session = session;
    session.on('error', () => {}); // protocol errors end the session (GOAWAY), never the process
    // HTTP/2 has no half-close: a client that sent FIN is gone, whatever the listener's allowHalfOpen says,
    // and its streams (each perhaps holding an upstream connection) must not wait for it.
    socket.on('end', () => {
      if (!session.destroyed) session.destroy();
    });
    session.on('stream', (stream: ServerHttp2Stream, _headers: unknown, flags: number, raw: string[]) => this.#onStream(stream, flags, raw));
    // A listener of our own: setTimeout's callback is a `once`, and the timer fires again after activity.
    session.on('timeout', () => this.#onIdle());
    session.setTimeout(ctx.options.idleTimeoutMs);
  }

  /** The proxy is stopping: GOAWAY now, streams in flight finish, then the session closes the socket. */
  shutdown(): void {
    if (!this.#session.destroyed) this.#session.close();
  }

  #onStream(stream: ServerHttp2Stream, flags: number, raw: string[]): void {
    // A stream reset in the same read as its HEADERS arrives already closed: count it, forward nothing.
    if (stream.destroyed || stream.closed) return this.#countReset();
    this.#active++;
    try {
      new StreamExchange(stream, this.#scope).start(raw, (flags & constants.NGHTTP2_FLAG_END_STREAM) !== 0);
    } catch {
      // A fault of ours must cost one stream, never the process (this runs from node's event emitter):
      // the reset's 'close' ends the exchange like any other.
      if (!stream.destroyed) stream.close(constants.NGHTTP2_INTERNAL_ERROR);
    }
  }

  #ended(reset: boolean): void {
    this.#active--;
    if (reset) this.#countReset();
  }

  #countReset(): void {
    if (this.#session.destroyed || this.#resets.allow(performance.now())) return;
    // Rapid reset: GOAWAY(ENHANCE_YOUR_CALM), then the streams and the socket go. (An error is passed:
    // destroy(undefined, code) would take its default error, NO_ERROR, as the code.)
    this.#session.destroy(new Error('too many reset streams'), constants.NGHTTP2_ENHANCE_YOUR_CALM);
  }

  #onIdle(): void {
    // Idle means no request in flight (an exchange waiting on its app keeps the session); then GOAWAY.
    if (this.#active === 0) this.shutdown();
  }
}
