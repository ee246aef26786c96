import { createServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer, type SecureContextOptions, type TLSSocket } from 'node:tls';
import type { TlsStats } from '../../dataplane/route-table.ts';
import { proxyErrors, renderError } from '../pages.ts';
import type { LiveCertificates } from './certificates.ts';
import { classifyOpening } from './opening.ts';
import { SESSION_LIFETIME_S } from './policy.ts';
import { SessionCache } from './session-cache.ts';

export interface TlsListenerOptions {
  host: string;
  /** 0 picks a free port. */
  port: number;
  reusePort: boolean;
  certificates: LiveCertificates;
  /** The shared settings (./policy.ts): the listener's own context fixes versions and ciphers. */
  policy: SecureContextOptions;
  /** From the first byte to a finished handshake; a client that stalls is cut (like the head timeout). */
  handshakeTimeoutMs: number;
  /** Counters this listener adds to. */
  stats: TlsStats;
  /** A finished handshake: the socket is the caller's from here (ALPN in `socket.alpnProtocol`). */
  onSecure(socket: TLSSocket): void;
}

export interface TlsListener {
  readonly address: { host: string; port: number };
  /** Stops accepting; resolves once every connection it accepted has closed (served ones are closed by the caller, or `cut`). */
  close(): Promise<void>;
  /** Destroys every connection it accepted that is still open: those in their handshake, and any the caller left. */
  cut(): void;
}

/** About 1.5 KiB each: a few MiB at most, for the rare TLS 1.2 client without tickets. */
const SESSION_CACHE_ENTRIES = 5_000;
/** How long a plain-HTTP client may keep sending after its 400 before the socket is cut. */
const PLAIN_HTTP_LINGER_MS = 2000;

/**
 * The TLS listener: a plain TCP listener that reads the first byte of each connection before TLS sees it.
 * A TLS record goes to node's TLS server (SNI picks the certificate from `certificates`; no certificate
 * for the name, or no name, fails the handshake with an alert); plain HTTP gets nginx's answer, a 400
 * saying so; anything else is closed. Every refusal is counted, none reaches the caller or the process.
 */
export async function startTlsListener(options: TlsListenerOptions): Promise<TlsListener> {
  const { certificates, stats } = options;
  const accepted = new Set<Socket>();
  const sessions = new SessionCache({ max: SESSION_CACHE_ENTRIES, ttlMs: SESSION_LIFETIME_S * 1000 });

  const tls = createTlsServer(
    {
      ...options.policy,
      ALPNProtocols: ['h2', 'http/1.1'],
      handshakeTimeout: options.handshakeTimeoutMs,
      allowHalfOpen: true,
      // No context for the name: the listener's own, which has no certificate, so the handshake fails with an alert.
      SNICallback: (servername, done) => done(null, certificates.pick(servername, Date.now())?.context),
    },
    (socket: TLSSocket) => {
      stats.handshakes++;
      options.onSecure(socket);
    },
  );
  // Node leaves a socket whose handshake failed or timed out open when this event has a listener.
  tls.on('tlsClientError', (_error, socket) => {
    stats.refused++;
    socket.destroy();
  });
  tls.on('newSession', (id: Buffer, data: Buffer, done: () => void) => {
    sessions.store(id, data, Date.now());
    done();
  });
  tls.on('resumeSession', (id: Buffer, done: (error: Error | null, data: Buffer | null) => void) => done(null, sessions.get(id, Date.now())));

  const opening = (socket: Socket) => {
    accepted.add(socket);
    socket.once('close', () => accepted.delete(socket));
    // Stays for the socket's life: errors of the raw socket under a TLS socket must never go unheard.
    socket.on('error', () => socket.destroy());
    const cut = () => {
      stats.refused++;
      socket.destroy();
    };
    socket.setTimeout(options.handshakeTimeoutMs);
    socket.once('timeout', cut);
    socket.once('end', cut);
    socket.once('data', (chunk: Buffer) => {
      socket.pause();
      socket.setTimeout(0);
      socket.off('timeout', cut);
      socket.off('end', cut);
      switch (classifyOpening(chunk[0])) {
        case 'tls':
          socket.unshift(chunk);
          tls.emit('connection', socket);
          return;
        case 'http':
          stats.plainHttp++;
          return answerPlainHttp(socket);
        case 'other':
          return cut();
      }
    });
  };
  const raw: Server = createServer({ allowHalfOpen: true, noDelay: true }, opening);
  await new Promise<void>((resolve, reject) => {
    raw.once('error', reject);
    raw.listen({ host: options.host, port: options.port, reusePort: options.reusePort }, () => {
      raw.off('error', reject);
      resolve();
    });
  });
  const bound = raw.address();
  if (bound === null || typeof bound === 'string') throw new Error('TLS listener has no TCP address');
  return {
    address: { host: options.host, port: bound.port },
    close: () => new Promise<void>((resolve) => raw.close(() => resolve())),
    cut: () => {
      for (const socket of accepted) socket.destroy();
    },
  };
}

/** nginx's answer to plain HTTP on its TLS port: a 400 that says so, then the connection ends. */
function answerPlainHttp(socket: Socket): void {
  // Whatever else the client sends is read and dropped, so the close is not a reset that eats the answer.
  socket.on('data', () => {});
  socket.resume();
  socket.end(renderError(proxyErrors.plainHttpOnTls(), { json: false, close: true, head: false }));
  socket.setTimeout(PLAIN_HTTP_LINGER_MS, () => socket.destroy());
}
