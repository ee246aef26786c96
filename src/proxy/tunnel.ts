import type { Socket } from 'node:net';
import type { Drainable } from './target.ts';
import type { Upstream, UpstreamOwner } from './upstream.ts';
import { FrameBoundary, closeFrame } from './ws-frames.ts';

/**
 * A switched connection (WebSocket or another Upgrade): bytes flow both ways untouched. For WebSockets
 * the upstream-to-client direction is followed frame by frame so that, when the release drains, the
 * client gets a proper close frame (1001 going away) between two frames instead of a cut TCP stream.
 */
export class Tunnel implements UpstreamOwner, Drainable {
  readonly #client: Socket;
  readonly #upstream: Upstream;
  readonly #frames: FrameBoundary | null;
  readonly #onClose: () => void;
  #closing = false;
  #closed = false;

  constructor(client: Socket, upstream: Upstream, options: { websocket: boolean; onClose: () => void }) {
    this.#client = client;
    this.#upstream = upstream;
    this.#frames = options.websocket ? new FrameBoundary() : null;
    this.#onClose = options.onClose;
    upstream.owner = this;
    upstream.socket.setTimeout(0);
    client.setTimeout(0);
  }

  /** Starts relaying, first with what each side already sent past the handshake. */
  start(fromClient: Buffer | null, fromUpstream: Buffer | null): void {
    if (fromUpstream && fromUpstream.length) this.onUpstreamData(fromUpstream);
    if (fromClient && fromClient.length) this.onClientData(fromClient);
    this.#client.resume();
  }

  onClientData(chunk: Buffer): void {
    if (this.#closing) return;
    if (!this.#upstream.socket.write(chunk)) {
      this.#client.pause();
      this.#upstream.socket.once('drain', () => this.#client.resume());
    }
  }

  onClientEnd(): void {
    if (!this.#closing) this.#upstream.socket.end();
  }

  onUpstreamData(chunk: Buffer): void {
    if (this.#closed) return;
    if (this.#frames) {
      if (this.#closing) {
        // Finishing the frame in progress before our close frame; anything after it is dropped.
        const upTo = this.#frames.feed(chunk, true);
        if (upTo > 0) this.#client.write(chunk.subarray(0, upTo));
        if (this.#frames.atBoundary) this.#sendClose();
        return;
      }
      this.#frames.feed(chunk);
    } else if (this.#closing) return;
    if (!this.#client.write(chunk)) {
      this.#upstream.socket.pause();
      this.#client.once('drain', () => this.#upstream.socket.resume());
    }
  }

  onUpstreamEnd(): void {
    if (!this.#closing) this.#client.end();
    this.close();
  }

  onUpstreamError(): void {
    this.close();
  }

  onUpstreamTimeout(): void {}

  drainExpired(): void {
    if (this.#closing || this.#closed) return;
    this.#closing = true;
    if (!this.#frames) return this.close();
    if (this.#frames.atBoundary) this.#sendClose();
    // else onUpstreamData sends it once the frame in flight is complete; give that a bounded time
    setTimeout(() => this.close(), 2000).unref();
  }

  #sendClose(): void {
    if (this.#closed) return;
    this.#client.end(closeFrame(1001, 'release replaced'));
    this.#upstream.destroy();
    // The client answers with its own close frame and closes; do not wait on it forever.
    setTimeout(() => this.close(), 1000).unref();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#upstream.destroy();
    if (!this.#client.destroyed) {
      if (this.#client.writableEnded) setTimeout(() => this.#client.destroy(), 1000).unref();
      else this.#client.destroy();
    }
    this.#onClose();
  }
}
