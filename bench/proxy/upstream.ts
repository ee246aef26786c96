/**
 * The trivial upstream every configuration proxies to: `node bench/proxy/upstream.ts PORT`.
 * A separate process, so its CPU is not the benchmark's and every configuration meets the same one.
 */
import { createServer } from 'node:http';

const BODY = Buffer.from('hello world\n');

export function startUpstream(port: number): void {
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': BODY.length });
    res.end(BODY);
  });
  // Longer than any proxy's idle pool timeout, so the upstream never closes a pooled connection first.
  server.keepAliveTimeout = 120_000;
  server.listen(port, '127.0.0.1');
}

if (import.meta.main) startUpstream(Number(process.argv[2]));
