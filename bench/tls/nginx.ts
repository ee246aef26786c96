/**
 * nginx terminating TLS the way a careful operator sets it up for a Let's Encrypt certificate: TLS 1.2
 * and 1.3, a shared session cache (tickets are on by default), HTTP/2 by ALPN, keep-alive to the
 * upstream, no access log. Its suites, their order and its curves are berth's (src/proxy/tls/policy.ts),
 * with the server's preference on both, so the two negotiate the same cipher and key exchange with any
 * client and the comparison is of the proxies, not of AES-128 against AES-256. Debian 12 ships nginx
 * 1.22, which takes `listen … ssl http2` (the `http2 on;` directive came in 1.25.1).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SESSION_LIFETIME_S, TLS_CIPHERS, TLS_CURVES } from '../../src/proxy/tls/policy.ts';
import { freePort, spawnGroup, waitForPort } from '../lib/procs.ts';
import { UPSTREAM_IDLE, type TlsTarget, type TlsTargetContext } from './target.ts';

/** berth's one list, split as OpenSSL takes it: TLS 1.3 suites (`TLS_…`) apart from the TLS 1.2 ciphers. */
const suites = TLS_CIPHERS.split(':');
export const TLS13_SUITES = suites.filter((c) => c.startsWith('TLS_')).join(':');
export const TLS12_CIPHERS = suites.filter((c) => !c.startsWith('TLS_')).join(':');

export function nginxTlsConfig(o: { dir: string; port: number; upstreamPort: number; host: string; chainFile: string; keyFile: string }): string {
  return `worker_processes auto;
daemon off;
pid ${o.dir}/nginx.pid;
error_log ${o.dir}/nginx-error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${o.dir}/client_body;
  proxy_temp_path ${o.dir}/proxy_temp;
  # nginx ends a client connection after 1000 requests by default (Connection: close, or GOAWAY on h2);
  # h2load's clients stop at a GOAWAY instead of reconnecting, and berth sets no such limit.
  keepalive_requests 1000000;
  ssl_protocols TLSv1.2 TLSv1.3;
  ssl_ciphers ${TLS12_CIPHERS};
  ssl_conf_command Ciphersuites ${TLS13_SUITES};
  ssl_ecdh_curve ${TLS_CURVES};
  ssl_prefer_server_ciphers on;
  ssl_session_cache shared:SSL:10m;
  ssl_session_timeout ${SESSION_LIFETIME_S}s;
  ssl_certificate ${o.chainFile};
  ssl_certificate_key ${o.keyFile};
  upstream app {
    server 127.0.0.1:${o.upstreamPort};
    keepalive ${UPSTREAM_IDLE};
  }
  # Unknown hosts get a 404, as they do from berth: routing by Host is part of the work.
  server {
    listen 127.0.0.1:${o.port} ssl http2 default_server;
    return 404;
  }
  server {
    listen 127.0.0.1:${o.port} ssl http2;
    server_name ${o.host};
    location / {
      proxy_pass http://app;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-For $remote_addr;
      proxy_set_header X-Forwarded-Proto $scheme;
      proxy_set_header X-Forwarded-Host $host;
    }
  }
}
`;
}

export async function startNginxTls(ctx: TlsTargetContext): Promise<TlsTarget> {
  const dir = join(ctx.dir, 'nginx');
  mkdirSync(dir, { recursive: true });
  const port = await freePort();
  const conf = join(dir, 'nginx.conf');
  writeFileSync(conf, nginxTlsConfig({ dir, port, upstreamPort: ctx.upstreamPort, host: ctx.cert.host, chainFile: ctx.cert.chainFile, keyFile: ctx.cert.keyFile }));
  const log = join(dir, 'out.log');
  // -e: nginx opens its default error log before reading the config; keep even that in our directory.
  const child = spawnGroup('nginx', ctx.tools.nginx, ['-p', dir, '-c', conf, '-e', join(dir, 'nginx-error.log')], { logFile: log });
  ctx.cleanup.add('stop nginx', () => child.stop());
  await waitForPort(child, port, log);
  return {
    key: 'nginx',
    label: 'nginx',
    port,
    pid: child.pid,
    setup: `\`worker_processes auto\`, \`listen … ssl http2\`, \`keepalive_requests 1000000\` (its default of 1000 requests per connection ends h2load's clients with a GOAWAY; berth has no such limit), \`ssl_protocols TLSv1.2 TLSv1.3\`, berth's suites, order and curves (\`ssl_ciphers\`, \`ssl_conf_command Ciphersuites\`, \`ssl_ecdh_curve ${TLS_CURVES}\`, \`ssl_prefer_server_ciphers on\`), \`ssl_session_cache shared:SSL:10m\`, \`ssl_session_timeout ${SESSION_LIFETIME_S}s\` (berth's session lifetime; session tickets on, nginx's default), \`upstream { keepalive ${UPSTREAM_IDLE}; }\` (idle connections kept per worker, as berth's pool keeps ${UPSTREAM_IDLE} idle per target; neither caps busy ones), \`proxy_http_version 1.1\`, Host and X-Forwarded-* set, \`access_log off\`, unknown hosts 404`,
  };
}
