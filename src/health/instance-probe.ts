import { probeHttp, type ProbeResult } from './probe.ts';
import { probeTcp } from './tcp.ts';
import { parseHostPort } from '../lib/host-port.ts';
import type { InstanceRecord, ReleaseRecord } from '../model/records.ts';
import type { RuntimeDriver } from '../runtime/driver.ts';

/**
 * How berth asks one instance whether it is healthy, the same way at the health gate and afterwards
 * (health monitor): `web` answers the release's health path over HTTP; another process passes its own
 * check (a fresh heartbeat file, a command exiting 0), else accepts TCP on its port. Undefined when
 * there is nothing to ask (a process with neither check nor port, or no address yet).
 */
export interface InstanceProbe {
  kind: 'http' | 'check' | 'tcp';
  probe: () => Promise<ProbeResult>;
  /** The manifest's interval for this kind of check. */
  intervalMs: number;
}

/** What asking an instance needs: the driver (for checks it runs) and the base domain (the Host of HTTP probes). */
export interface ProbeContext {
  driver: Pick<RuntimeDriver, 'checkHealth'>;
  settings: { baseDomain: string };
}

export function instanceProbe(ctx: ProbeContext, release: ReleaseRecord, instance: InstanceRecord): InstanceProbe | undefined {
  const health = release.manifest.health;
  const address = instance.address ? parseHostPort(instance.address) : undefined;
  if (instance.process === 'web') {
    if (!address) return undefined;
    const hostname = `${release.app}.${ctx.settings.baseDomain}`;
    return {
      kind: 'http',
      probe: () => probeHttp({ host: address.host, port: address.port, path: health.path, hostname, timeoutMs: health.timeoutMs }),
      intervalMs: health.intervalMs,
    };
  }
  const check = release.manifest.processes[instance.process]?.health;
  if (check) {
    return {
      kind: 'check',
      probe: async () => {
        const started = performance.now();
        const result = await ctx.driver.checkHealth(instance.id, {
          ...(check.heartbeat ? { heartbeat: check.heartbeat } : {}),
          ...(check.command ? { command: check.command } : {}),
          timeoutMs: Math.max(1000, Math.min(check.intervalMs, 30_000)),
        });
        return { ok: result.ok, ...(result.ok ? {} : { error: result.detail }), ms: Math.round(performance.now() - started) };
      },
      intervalMs: check.intervalMs,
    };
  }
  if (address) return { kind: 'tcp', probe: () => probeTcp({ host: address.host, port: address.port, timeoutMs: health.timeoutMs }), intervalMs: health.intervalMs };
  return undefined;
}
