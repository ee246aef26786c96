/**
 * wrk over HTTPS with the right SNI. wrk sends the URL's host as SNI and connects to whatever that host
 * resolves to; `bench.localhost` resolves nowhere here (and editing /etc/hosts is not the benchmark's
 * business), so a small Lua script replaces wrk's resolver: the URL keeps the name (SNI and Host are
 * `bench.localhost`, as a browser would send them) and the socket goes to 127.0.0.1.
 *
 * On TLS sessions: wrk keeps one SSL object per connection and only `SSL_clear`s it on reconnect after
 * `SSL_shutdown`, so a reconnecting wrk offers the session (TLS 1.3: the last ticket) it had; with
 * `Connection: close` its handshakes are resumptions wherever the server accepts them.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runWrk, type WrkOptions, type WrkResult } from '../lib/wrk.ts';

export interface HttpsWrk {
  host: string;
  port: number;
  /** Where the Lua script is written. */
  dir: string;
  threads: number;
  connections: number;
  durationS: number;
  headers?: string[];
  signal?: AbortSignal;
}

/** The Lua script that makes wrk connect to 127.0.0.1:port whatever the URL's host is. */
export function connectScript(port: number): string {
  if (!Number.isInteger(port) || port <= 0 || port > 65535) throw new Error(`not a TCP port: ${port}`);
  return `-- written by bench/tls/wrk-https.ts: connect to 127.0.0.1 and keep the URL's host for SNI and Host\nwrk.resolve = function(host, service)\n  wrk.addrs = wrk.lookup("127.0.0.1", "${port}")\nend\n`;
}

export function httpsWrkOptions(o: HttpsWrk): WrkOptions {
  const script = join(o.dir, `wrk-connect-${o.port}.lua`);
  writeFileSync(script, connectScript(o.port));
  return {
    url: `https://${o.host}:${o.port}/`,
    threads: o.threads,
    connections: o.connections,
    durationS: o.durationS,
    script,
    headers: [`Host: ${o.host}`, ...(o.headers ?? [])],
    signal: o.signal,
  };
}

export const runHttpsWrk = (o: HttpsWrk): Promise<WrkResult> => runWrk(httpsWrkOptions(o));
