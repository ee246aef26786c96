import { createServer, type Server } from 'node:net';
import type { ProxyInfo, ProxyStats, RouteTable } from '../dataplane/route-table.ts';
import { ClientConnection, type ConnectionOptions } from './connection.ts';
import { Routes } from './live-routes.ts';
import type { PoolOptions } from './upstream.ts';

export interface ProxyServerOptions {
  host: string;
  /** 0 picks a free port. */
  port: number;
  /** Let a successor process bind the same port while this one drains (SO_REUSEPORT). */
  reusePort?: boolean;
  connection?: Partial<ConnectionOptions>;
  pool?: Partial<PoolOptions>;
  version?: string;
}

export interface ProxyServer {
  readonly address: { host: string; port: number };
  /** False (and nothing changes) when `table` is older than the one in use. */
  apply(table: RouteTable): boolean;
  table(): RouteTable;
  info(): ProxyInfo;
  stats(): ProxyStats;
  /** Stops accepting; idle connections close now, busy ones after their exchange (up to `graceMs`), then the rest are cut. */
  close(graceMs?: number): Promise<void>;
}

export const defaultConnectionOptions: ConnectionOptions = {
  maxHeadSize: 32 * 1024,
  headTimeoutMs: 30_000,
  idleTimeoutMs: 60_000,
  responseTimeoutMs: 60_000,
  proto: 'http',
};

export const defaultPoolOptions: PoolOptions = { connectTimeoutMs: 5_000, idleTimeoutMs: 4_000, maxIdle: 128 };

/** berth's HTTP reverse proxy: routes by Host to the targets of the current route table. */
export async function startProxyServer(options: ProxyServerOptions): Promise<ProxyServer> {
  const routes = new Routes({ ...defaultPoolOptions, ...options.pool });
  const connections = new Set<ClientConnection>();
  let unrouted = 0;
  const ctx = {
    routes,
    options: { ...defaultConnectionOptions, ...options.connection },
    unrouted: () => {
      unrouted++;
    },
  };
  const server: Server = createServer({ allowHalfOpen: true, noDelay: true }, (socket) => {
    const connection = new ClientConnection(socket, ctx);
    connections.add(connection);
    socket.once('close', () => connections.delete(connection));
  });
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
  const startedAt = Date.now();
  const info = (): ProxyInfo => ({ generation: routes.table.generation, address, pid: process.pid, version: options.version ?? '0', startedAt });

  return {
    address,
    apply: (table) => routes.apply(table),
    table: () => routes.table,
    info,
    stats: () => ({
      ...info(),
      connections: connections.size,
      targets: routes.targetStats(),
      unrouted,
    }),
    close: async (graceMs = 10_000) => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      const deadline = Date.now() + graceMs;
      // Idle keep-alive connections close now; busy ones once their exchange is done or time is up.
      for (const connection of connections) connection.shutdown();
      while (connections.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      for (const connection of connections) connection.socket.destroy();
      routes.closeAll();
      await closed;
    },
  };
}
