/** Caddy's reverse_proxy with everything that is not proxying turned off. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, spawnGroup, waitForPort } from '../../lib/procs.ts';
import type { Target, TargetContext } from './target.ts';

export function caddyfile(port: number, upstreamPort: number, host: string): string {
  return `{
  admin off
  auto_https off
  log default {
    output discard
  }
}

# The site address is the Host matcher: other hosts get Caddy's empty response.
http://${host}:${port} {
  bind 127.0.0.1
  reverse_proxy 127.0.0.1:${upstreamPort}
}
`;
}

export async function startCaddy(ctx: TargetContext): Promise<Target> {
  const dir = join(ctx.dir, 'caddy');
  mkdirSync(dir, { recursive: true });
  const port = await freePort();
  const file = join(dir, 'Caddyfile');
  writeFileSync(file, caddyfile(port, ctx.upstreamPort, ctx.host));
  const log = join(dir, 'out.log');
  // Caddy keeps state (autosave.json, certificates) under HOME/XDG dirs; keep it in our directory.
  const env = { ...process.env, HOME: dir, XDG_DATA_HOME: join(dir, 'data'), XDG_CONFIG_HOME: join(dir, 'config') };
  const child = spawnGroup('caddy', ctx.tools.caddy, ['run', '--config', file, '--adapter', 'caddyfile'], { logFile: log, env });
  ctx.cleanup.add('stop caddy', () => child.stop());
  await waitForPort(child, port, log);
  return {
    key: 'caddy',
    label: 'Caddy',
    port,
    pid: child.pid,
    setup: '`reverse_proxy` with the default transport (keep-alive on, at most 32 idle connections per upstream by default), `admin off`, `auto_https off`, logs discarded, site matched on Host',
  };
}
