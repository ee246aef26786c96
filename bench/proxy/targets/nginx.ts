/** nginx as a reverse proxy the way a careful operator sets it up: keep-alive to the upstream, no access log. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, spawnGroup, waitForPort } from '../../lib/procs.ts';
import type { Target, TargetContext } from './target.ts';

export function nginxConfig(dir: string, port: number, upstreamPort: number, host: string): string {
  return `worker_processes auto;
daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/nginx-error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${dir}/client_body;
  proxy_temp_path ${dir}/proxy_temp;
  upstream app {
    server 127.0.0.1:${upstreamPort};
    keepalive 64;
  }
  # Unknown hosts get a 404, as they do from berth: routing by Host is part of the work.
  server {
    listen 127.0.0.1:${port} default_server;
    return 404;
  }
  server {
    listen 127.0.0.1:${port};
    server_name ${host};
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

export async function startNginx(ctx: TargetContext): Promise<Target> {
  const dir = join(ctx.dir, 'nginx');
  mkdirSync(dir, { recursive: true });
  const port = await freePort();
  const conf = join(dir, 'nginx.conf');
  writeFileSync(conf, nginxConfig(dir, port, ctx.upstreamPort, ctx.host));
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
    setup: '`worker_processes auto`, `upstream { keepalive 64; }`, `proxy_http_version 1.1`, `proxy_set_header Connection ""`, Host and X-Forwarded-* set, `access_log off`, unknown hosts 404',
  };
}
