/** A container as the runtime port reports an instance (pure). */
import type { ExitInfo, InstanceInfo } from '../driver.ts';
import type { ContainerInspect } from './engine.ts';
import { LABEL } from './names.ts';

export function addressOf(inspect: ContainerInspect): { host: string; port: number } | null {
  const port = Number(inspect.Config.Labels[LABEL.port] ?? 0);
  if (!port || !inspect.State.Running) return null;
  const ip = Object.values(inspect.NetworkSettings.Networks ?? {}).find((n) => n.IPAddress)?.IPAddress;
  return ip ? { host: ip, port } : null;
}

export function exitOf(inspect: ContainerInspect): ExitInfo | undefined {
  if (inspect.State.Running || inspect.State.Status === 'created') return undefined;
  const at = Date.parse(inspect.State.FinishedAt);
  return { code: inspect.State.ExitCode, signal: null, at: Number.isNaN(at) ? Date.now() : at, ...(inspect.State.OOMKilled ? { oom: true } : {}) };
}

/** Crash loop: it failed, and the engine has used up the restarts berth allowed it. */
export function gaveUp(inspect: ContainerInspect): boolean {
  const max = Number(inspect.Config.Labels[LABEL.maxRestarts] ?? 0);
  return !inspect.State.Running && !inspect.State.Restarting && inspect.State.ExitCode !== 0 && inspect.RestartCount >= max && inspect.State.Status !== 'created';
}

export function infoFrom(inspect: ContainerInspect): InstanceInfo {
  const labels = inspect.Config.Labels;
  const state = inspect.State.Restarting ? 'restarting' : inspect.State.Running ? 'running' : gaveUp(inspect) ? 'crashloop' : 'exited';
  const lastExit = exitOf(inspect);
  return {
    id: labels[LABEL.instance],
    app: labels[LABEL.app] ?? '',
    release: labels[LABEL.release] ?? '',
    process: labels[LABEL.process] ?? '',
    state,
    address: addressOf(inspect),
    ...(inspect.State.Pid ? { pid: inspect.State.Pid } : {}),
    restarts: inspect.RestartCount,
    ...(lastExit ? { lastExit } : {}),
    detail: { container: inspect.Id.slice(0, 12) },
  };
}

/** The values of the container's secret env vars, to mask in its logs. */
export function secretValues(inspect: ContainerInspect): string[] {
  const names = new Set((inspect.Config.Labels[LABEL.secretNames] ?? '').split(',').filter(Boolean));
  return inspect.Config.Env.map((entry) => entry.split('=')).filter(([name]) => names.has(name)).map(([, ...value]) => value.join('='));
}
