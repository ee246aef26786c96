/**
 * The "bare Node proxy" reference: node:http in front, an undici Pool behind, no features.
 * `node bench/proxy/undici-proxy.ts PORT UPSTREAM_HOST:PORT HOST`. It shows what the obvious Node
 * implementation achieves, so berth's hand-written HTTP/1 path can be judged against it.
 */
import { createServer } from 'node:http';
import { Pool } from 'undici';

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade']);

function forwardable(headers: Record<string, string | string[] | undefined>): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers)) if (value !== undefined && !HOP_BY_HOP.has(name)) out[name] = value;
  return out;
}

export function startUndiciProxy(port: number, upstream: string, host: string): void {
  const pool = new Pool(`http://${upstream}`, { connections: 128, keepAliveTimeout: 60_000 });
  const server = createServer((req, res) => {
    // Same Host handling as the others: only the benchmark's host is routed.
    if (req.headers.host?.split(':')[0] !== host) return void res.writeHead(404).end();
    const headers = { ...forwardable(req.headers), 'x-forwarded-for': req.socket.remoteAddress ?? '', 'x-forwarded-proto': 'http' };
    const body = req.method === 'GET' || req.method === 'HEAD' ? null : req;
    pool.dispatch({ method: req.method!, path: req.url!, headers, body }, {
      onRequestStart: () => {},
      onResponseStart: (_c, status, upHeaders) => res.writeHead(status, forwardable(upHeaders)),
      onResponseData: (controller, chunk) => {
        if (!res.write(chunk)) {
          controller.pause();
          res.once('drain', () => controller.resume());
        }
      },
      onResponseEnd: () => res.end(),
      onResponseError: (_c, _error) => (res.headersSent ? res.destroy() : res.writeHead(502).end()),
    });
  });
  server.keepAliveTimeout = 120_000;
  server.listen(port, '127.0.0.1');
}

if (import.meta.main) startUndiciProxy(Number(process.argv[2]), process.argv[3], process.argv[4]);
