/**
 * The optional `--metrics HOST:PORT` listener: GET /metrics (Prometheus' default path) without a token,
 * for a scraper on the same host or a private network. It serves nothing else: any other path is 404,
 * any other method 405, and every connection is bounded (headers in 10 s, a scrape in 30 s, 64 at once),
 * so an open port cannot be used to hold the daemon.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../lib/log.ts';
import { EXPOSITION_CONTENT_TYPE } from '../metrics/exposition.ts';

/** The daemon is still starting: no metrics to serve yet (answered 503, so a scraper just tries again). */
export class MetricsNotReadyError extends Error {
  constructor() {
    super('the daemon is starting');
  }
}

export interface MetricsListener {
  address: { host: string; port: number };
  close(): Promise<void>;
}

const plain = (status: number, text: string, extra: Record<string, string> = {}) => ({
  status,
  headers: { 'content-type': 'text/plain; charset=utf-8', 'content-length': String(Buffer.byteLength(text)), ...extra },
  text,
});

export async function startMetricsListener(options: { listen: { host: string; port: number }; scrape: () => Promise<string>; log: Logger }): Promise<MetricsListener> {
  const { log } = options;
  const server: Server = createServer({ maxHeaderSize: 8 * 1024 }, (req, res) => {
    const path = (req.url ?? '').split('?')[0];
    const send = (a: ReturnType<typeof plain>) => {
      res.writeHead(a.status, a.headers);
      res.end(req.method === 'HEAD' ? undefined : a.text);
    };
    // Whatever a client sends as a body is not read: the connection closes after the answer.
    if (req.method !== 'GET' && req.method !== 'HEAD') res.shouldKeepAlive = false;
    if (path !== '/metrics') return send(plain(404, 'not found: this listener serves only GET /metrics\n'));
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(plain(405, 'method not allowed: GET /metrics\n', { allow: 'GET, HEAD' }));
    options.scrape().then(
      (text) => {
        res.writeHead(200, { 'content-type': EXPOSITION_CONTENT_TYPE, 'content-length': String(Buffer.byteLength(text)), 'cache-control': 'no-store' });
        res.end(req.method === 'HEAD' ? undefined : text);
      },
      (error) => {
        if (res.headersSent) return;
        if (error instanceof MetricsNotReadyError) return send(plain(503, 'berth is starting; try again in a moment\n', { 'retry-after': '1' }));
        log.error('metrics scrape failed', { error: error as Error });
        send(plain(500, 'the metrics could not be read; see the daemon log\n'));
      },
    );
  });
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  server.keepAliveTimeout = 65_000;
  server.maxConnections = 64;
  server.on('clientError', (_error, socket) => socket.destroy());
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.listen.port, options.listen.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const bound = server.address() as AddressInfo;
  return {
    address: { host: options.listen.host, port: bound.port },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
