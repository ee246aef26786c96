import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect as h2connect, type ClientHttp2Session, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http2';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type TLSSocket } from 'node:tls';
import { makeTestCa } from '../../../test/support/tls-certs.ts';
import { ClientConnection, type ConnectionContext, type ConnectionOptions } from '../connection.ts';
import { Routes } from '../live-routes.ts';
import { defaultConnectionOptions, defaultPoolOptions } from '../server.ts';
import type { PoolOptions } from '../upstream.ts';
import { Http2Connection } from './connection.ts';
import type { ResetGuardOptions } from './reset-guard.ts';
import type { AccessSink } from '../access-log/entry.ts';
import { RequestIds } from '../request-ids.ts';

/** A test CA (openssl, test/support/tls-certs.ts) and a leaf for localhost and app.localhost; the CA also as a file, for curl. */
function makeCertificate(): { key: string; cert: string; ca: string; caPath: string; cleanup(): void } {
  const ca = makeTestCa('berth h2 test CA');
  const leaf = ca.issue(['localhost', 'app.localhost']);
  const dir = mkdtempSync(join(tmpdir(), 'berth-h2-'));
  const caPath = join(dir, 'ca.pem');
  writeFileSync(caPath, ca.certPem);
  return { key: leaf.keyPem, cert: leaf.certPem, ca: ca.certPem, caPath, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface H2Proxy {
  port: number;
  routes: Routes;
  /** The CA that signed the proxy's certificate: what clients are given to check it. */
  ca: string;
  caPath: string;
  unrouted: number;
  /** Live HTTP/2 sessions (the listener's view). */
  sessions: Set<Http2Connection>;
  /** Like the proxy's close: shutdown() each, wait up to `graceMs`, destroy what is left. */
  close(graceMs?: number): Promise<void>;
}

/**
 * A TLS listener as the proxy's (ALPN h2, then http/1.1) handing h2 sockets to Http2Connection and the
 * rest to ClientConnection, over a real Routes table: what the TLS listener does, without its certificates.
 */
export async function startH2Proxy(
  options: { connection?: Partial<ConnectionOptions>; pool?: Partial<PoolOptions>; resetGuard?: ResetGuardOptions; accessLog?: AccessSink } = {},
): Promise<H2Proxy> {
  const { key, cert, ca, caPath, cleanup } = makeCertificate();
  const routes = new Routes({ ...defaultPoolOptions, ...options.pool });
  const sessions = new Set<Http2Connection>();
  const sockets = new Set<TLSSocket>();
  const proxy: H2Proxy = { port: 0, routes, ca, caPath, unrouted: 0, sessions, close: async () => {} };
  const ctx: ConnectionContext = {
    routes,
    options: { ...defaultConnectionOptions, ...options.connection, proto: 'https' },
    unrouted: () => {
      proxy.unrouted++;
    },
    requestIds: new RequestIds(),
    accessLog: options.accessLog ?? null,
    countStats: true,
  };
  // As the proxy's listener (src/proxy/tls/listener.ts): ALPN h2 first, half-open sockets allowed.
  const server = createServer({ key, cert, ALPNProtocols: ['h2', 'http/1.1'], allowHalfOpen: true }, (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    if (socket.alpnProtocol === 'h2') {
      const connection = new Http2Connection(socket, ctx, options.resetGuard);
      sessions.add(connection);
      socket.once('close', () => sessions.delete(connection));
    } else new ClientConnection(socket, ctx);
  });
  server.on('tlsClientError', () => {});
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  proxy.port = (server.address() as { port: number }).port;
  proxy.close = async (graceMs = 1000) => {
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const session of sessions) session.shutdown();
    const deadline = Date.now() + graceMs;
    while (sockets.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    for (const socket of sockets) socket.destroy();
    routes.closeAll();
    cleanup();
    await closed;
  };
  return proxy;
}

export interface H2Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** A client session to the proxy that checks its certificate (servername localhost). */
export function h2Client(proxy: H2Proxy): ClientHttp2Session {
  const session = h2connect(`https://127.0.0.1:${proxy.port}`, { ca: proxy.ca, servername: 'localhost' });
  session.on('error', () => {});
  return session;
}

/** One request over `session`; rejects on a stream reset. `:authority` defaults to app.localhost. */
export function h2Request(session: ClientHttp2Session, headers: OutgoingHttpHeaders, body?: Buffer | string, timeoutMs = 10_000): Promise<H2Reply> {
  return new Promise((resolve, reject) => {
    const req = session.request({ ':authority': 'app.localhost', ...headers }, { endStream: body === undefined });
    let settled = false;
    const settle = (error: Error | null, reply?: H2Reply) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (error) reject(error);
      else resolve(reply!);
    };
    const timer = setTimeout(() => {
      req.close();
      settle(new Error('h2 request timed out'));
    }, timeoutMs);
    let status = 0;
    let responseHeaders: IncomingHttpHeaders = {};
    const chunks: Buffer[] = [];
    req.on('response', (h) => {
      status = Number(h[':status']);
      responseHeaders = h;
    });
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => settle(null, { status, headers: responseHeaders, body: Buffer.concat(chunks) }));
    req.on('error', (error) => settle(error));
    req.on('close', () => settle(Object.assign(new Error(`stream closed with code ${req.rstCode} before its end`), { rstCode: req.rstCode })));
    if (body !== undefined) req.end(body);
  });
}
