import type { ServerSessionOptions } from 'node:http2';
import type { ConnectionOptions } from '../connection.ts';

/** Streams one client may have open at once; each may hold an upstream connection. */
export const MAX_CONCURRENT_STREAMS = 128;

/**
 * The limits of every HTTP/2 session, from the proxy's connection options. Each one bounds what a single
 * client can make berth hold; node:http2 (nghttp2) enforces them before any stream reaches our code.
 */
export function sessionOptions(options: ConnectionOptions): ServerSessionOptions {
  return {
    settings: {
      maxConcurrentStreams: MAX_CONCURRENT_STREAMS,
      // The same bound as an HTTP/1 head; a bigger list is refused stream by stream.
      maxHeaderListSize: options.maxHeadSize,
      // A paused stream holds at most one window of body: 128 streams x 64 KiB bound what a session buffers.
      initialWindowSize: 65_535,
      // No extended CONNECT: WebSocket clients fall back to HTTP/1.1 (RFC 8441 is not offered).
      enableConnectProtocol: false,
    },
    // Fields per header block, pseudo-headers included (node's default is 128).
    maxHeaderListPairs: 256,
    // Megabytes of HPACK tables, queued frames and stream state before new streams are refused.
    maxSessionMemory: 10,
    // Streams refused over the concurrency limit, and malformed or pointless frames (empty DATA, zero
    // WINDOW_UPDATE...), before the session is ended: the floods of CVE-2019-9511..9518.
    maxSessionRejectedStreams: 100,
    maxSessionInvalidFrames: 100,
    maxOutstandingPings: 10,
    maxSettings: 32,
    // nghttp2's own rapid-reset limit (its default is 1000 and 33/s); berth's ResetGuard counts too.
    streamResetBurst: 500,
    streamResetRate: 50,
    // Upstream responses may repeat fields HTTP/2 marks single-valued (two Content-Type): HTTP/1 clients get
    // them as sent, so do HTTP/2 clients, instead of a throw in the middle of a response.
    strictSingleValueFields: false,
    strictFieldWhitespaceValidation: true,
  };
}
