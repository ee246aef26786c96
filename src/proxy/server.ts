import { createServer, type Server, type Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { AcmeChallenges, CertificateSet, ProxyInfo, ProxyStats, RouteTable, TlsStats } from '../dataplane/route-table.ts';
import { challengeMap, challengeProblems } from '../dataplane/validate-challenges.ts';
import { ClientConnection, type ConnectionContext, type ConnectionOptions } from './connection.ts';
import type { HttpEdge } from './http-edge.ts';
import { Http2Connection } from './http2/connection.ts';
import { Routes } from './live-routes.ts';
import { LiveCertificates, type CertificateSummary } from './tls/certificates.ts';
import { startTlsListener, type TlsListener } from './tls/listener.ts';
import { tlsPolicy } from './tls/policy.ts';
import type { PoolOptions } from './upstream.ts';
import { AccessLogWriter, type AccessLogOptions } from './access-log/writer.ts';
import { RequestIds } from './request-ids.ts';

export interface ProxyServerOptions {
  host: string;
  /** 0 picks a free port. */
  port: number;
  /** The TLS listener (HTTPS and HTTP/2); absent: plain HTTP only. Port 0 picks a free port. */
  https?: { host: string; port: number };
  /** Let a successor process bind the same ports while this one drains (SO_REUSEPORT). */
  reusePort?: boolean;
  /** A TLS handshake must be done this long after the connection opened (default 10 s). */
  handshakeTimeoutMs?: number;
  connection?: Partial<ConnectionOptions>;
  pool?: Partial<PoolOptions>;
  version?: string;
  /** One JSON line per request answered, written off the hot path (access-log/writer.ts); absent: none. */
  accessLog?: AccessLogOptions;
  /** False: no status or latency counting (benchmark reference); default true. */
  countStats?: boolean;
  /** The clock that times forgetting idle releases (default Date.now). */
  now?: () => number;
}

export interface ProxyServer {
  readonly address: { host: string; port: number };
  /** The TLS listener's address; null without one. */
  readonly httpsAddress: { host: string; port: number } | null;
  /** False (and nothing changes) when `table` is older than the one in use. */
  apply(table: RouteTable): boolean;
  table(): RouteTable;
  /**
   * False (and nothing changes) when `set` is older than the one in use; throws InvalidCertificateSetError
   * for a set that fails validation (the one in use keeps serving). Open connections keep their certificate.
   */
  applyCertificates(set: CertificateSet): boolean;
  /** Ids, hosts and expiry of the certificates in use: never a PEM. */
  certificates(): CertificateSummary;
  /** Replaces the ACME HTTP-01 answers; throws (changing nothing) for an invalid map. */
  setChallenges(challenges: AcmeChallenges): void;
  info(): ProxyInfo;
  stats(): ProxyStats;
  /** Stops accepting; idle connections close now, busy ones after their exchange (up to `graceMs`), then the rest are cut; the access log is flushed. */
  close(graceMs?: number): Promise<void>;
}

/** What the server keeps of each connection it serves, HTTP/1 or HTTP/2, so that it can close them. */
interface Served {
  readonly socket: Socket;
  /** Close when idle: after the exchange in flight (HTTP/1), after the open streams with GOAWAY (HTTP/2). */
  shutdown(): void;
}

export const defaultConnectionOptions: ConnectionOptions = {
  maxHeadSize: 32 * 1024,
  headTimeoutMs: 30_000,
  idleTimeoutMs: 60_000,
  responseTimeoutMs: 60_000,
  proto: 'http',
};

export const defaultPoolOptions: PoolOptions = { connectTimeoutMs: 5_000, idleTimeoutMs: 4_000, maxIdle: 512 };

const DEFAULT_HANDSHAKE_TIMEOUT_MS = 10_000;

/** How often idle releases are looked for when nobody reads stats (ReleaseBook). */
const RELEASE_SWEEP_MS = 60_000;

/** berth's reverse proxy: routes by Host to the targets of the current route table, over HTTP and, with `https`, TLS. */
export async function startProxyServer(options: ProxyServerOptions): Promise<ProxyServer> {
  const routes = new Routes({ ...defaultPoolOptions, ...options.pool }, options.now);
  const policy = tlsPolicy();
  const certificates = new LiveCertificates(policy);
  let challenges = new Map<string, string>();
  const tlsStats: TlsStats = { handshakes: 0, refused: 0, plainHttp: 0, redirects: 0, challenges: 0 };
  const connections = new Set<Served>();
  const track = (connection: Served) => {
    connections.add(connection);
    connection.socket.once('close', () => connections.delete(connection));
  };
  let unrouted = 0;
  const countUnrouted = () => {
    unrouted++;
  };
  let tls: TlsListener | null = null;
  const edge: HttpEdge = {
    keyAuthorization: (token) => challenges.get(token),
    httpsPortFor: (host) => (tls !== null && certificates.covers(host, Date.now()) ? tls.address.port : null),
    answered: (kind) => (kind === 'challenge' ? tlsStats.challenges++ : tlsStats.redirects++),
  };
  const connectionOptions = { ...defaultConnectionOptions, ...options.connection };
  const accessLog = options.accessLog ? new AccessLogWriter(options.accessLog) : null;
  const shared = { routes, unrouted: countUnrouted, requestIds: new RequestIds(), accessLog, countStats: options.countStats ?? true };
  const httpCtx: ConnectionContext = { ...shared, options: connectionOptions, edge };
  const httpsCtx: ConnectionContext = { ...shared, options: { ...connectionOptions, proto: 'https' } };
  const sweeper = setInterval(() => routes.sweepReleases(), RELEASE_SWEEP_MS);
  sweeper.unref();

  const server: Server = createServer({ allowHalfOpen: true, noDelay: true }, (socket) => track(new ClientConnection(socket, httpCtx)));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: options.host, port: options.port, reusePort: options.reusePort ?? false }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const bound = server.address();
  if (bound === null || typeof bound === 'string') throw new Error('proxy listener has no TCP address');
  const address = { host: options.host, port: bound.port };
  if (options.https) {
    try {
      tls = await startTlsListener({
        host: options.https.host,
        port: options.https.port,
        reusePort: options.reusePort ?? false,
        certificates,
        policy,
        handshakeTimeoutMs: options.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS,
        stats: tlsStats,
        // ALPN h2 to the HTTP/2 session, everything else (http/1.1, or no ALPN) to the HTTP/1 loop.
        onSecure: (socket: TLSSocket) => track(socket.alpnProtocol === 'h2' ? http2Connection(socket, httpsCtx) : new ClientConnection(socket, httpsCtx)),
      });
    } catch (error) {
      server.close();
      clearInterval(sweeper);
      await accessLog?.close();
      throw error;
    }
  }
  const httpsAddress = tls?.address ?? null;
  const startedAt = Date.now();
  const info = (): ProxyInfo => ({
    generation: routes.table.generation,
    address,
    httpsAddress,
    certificatesGeneration: certificates.set.generation,
    pid: process.pid,
    version: options.version ?? '0',
    startedAt,
  });

  return {
    address,
    httpsAddress,
    apply: (table) => routes.apply(table),
    table: () => routes.table,
    applyCertificates: (set) => certificates.apply(set),
    certificates: () => certificates.summary(),
    setChallenges: (next) => {
      const problems = challengeProblems(next);
      if (problems.length) throw new Error(`the challenge answers were refused: ${problems.join('; ')}`);
      challenges = challengeMap(next);
    },
    info,
    stats: () => ({
      ...info(),
      connections: connections.size,
      targets: routes.targetStats(),
      releases: routes.releaseStats(),
      unrouted,
      tls: { ...tlsStats },
      accessLog: accessLog?.stats() ?? null,
    }),
    close: async (graceMs = 10_000) => {
      const closed = Promise.all([new Promise<void>((resolve) => server.close(() => resolve())), tls?.close()]);
      const deadline = Date.now() + graceMs;
      // Idle keep-alive connections close now; busy ones once their exchange is done or time is up.
      for (const connection of connections) connection.shutdown();
      while (connections.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      for (const connection of connections) connection.socket.destroy();
      tls?.cut();
      routes.closeAll();
      clearInterval(sweeper);
      await Promise.all([closed, accessLog?.close()]);
    },
  };
}

/**
 * The listener keeps sockets open after the client's FIN (an HTTP/1 answer may still be on its way); an
 * HTTP/2 session has no use for that: a client that ends its side gets the socket closed, as node:http2 does.
 */
function http2Connection(socket: TLSSocket, ctx: ConnectionContext): Http2Connection {
  socket.allowHalfOpen = false;
  return new Http2Connection(socket, ctx);
}
