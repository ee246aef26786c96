/** A container as the runtime port reports an instance (pure). */
import type { Address, ExitInfo, InstanceInfo, InstanceRunState, RestartPolicy } from '../driver.ts';
import type { ContainerInspect } from './engine.ts';
import { LABEL } from './names.ts';
import type { SupervisionState } from './supervision-state.ts';

export function addressOf(inspect: ContainerInspect): Address | null {
  const port = Number(inspect.Config.Labels[LABEL.port] ?? 0);
  if (!port || !inspect.State.Running || inspect.State.Restarting) return null;
  const ip = Object.values(inspect.NetworkSettings.Networks ?? {}).find((n) => n.IPAddress)?.IPAddress;
  return ip ? { host: ip, port } : null;
}

export const sameAddress = (a: Address | null, b: Address | null) => a?.host === b?.host && a?.port === b?.port;

/** An engine time (RFC 3339) in epoch ms; undefined for the engine's zero time (0001-01-01) or nonsense. */
export function engineMs(value: string | undefined): number | undefined {
  const ms = value ? Date.parse(value) : Number.NaN;
  return Number.isNaN(ms) || ms <= 0 ? undefined : ms;
}

/** The container's last exit as the engine tells it; out of memory only when the engine says so (State.OOMKilled). */
export function exitOf(inspect: ContainerInspect): ExitInfo | undefined {
  if (inspect.State.Running || inspect.State.Status === 'created') return undefined;
  return { code: inspect.State.ExitCode, signal: null, at: engineMs(inspect.State.FinishedAt) ?? Date.now(), ...(inspect.State.OOMKilled ? { oom: true } : {}) };
}

/** The manifest's defaults, for containers made before the policy was a label. */
const LEGACY_POLICY: RestartPolicy = { maxRestarts: 5, windowMs: 60_000, backoffMs: 1_000, maxBackoffMs: 30_000 };

/** The restart policy the container was created with (its label); older containers only carry the limit. */
export function policyOf(inspect: ContainerInspect): RestartPolicy {
  const labels = inspect.Config.Labels;
  try {
    const policy = JSON.parse(labels[LABEL.restartPolicy] ?? '') as RestartPolicy;
    if ([policy.maxRestarts, policy.windowMs, policy.backoffMs, policy.maxBackoffMs].every((n) => typeof n === 'number' && n >= 0)) return policy;
  } catch {
    // an older container: below
  }
  return { ...LEGACY_POLICY, maxRestarts: Number(labels[LABEL.maxRestarts] ?? LEGACY_POLICY.maxRestarts) || 0 };
}

/** A container made before berth supervised itself, whose engine `on-failure` policy used up its restarts. */
export function legacyGaveUp(inspect: ContainerInspect): boolean {
  const max = inspect.Config.Labels[LABEL.maxRestarts];
  if (max === undefined || inspect.Config.Labels[LABEL.restartPolicy] !== undefined) return false;
  return !inspect.State.Running && !inspect.State.Restarting && inspect.State.ExitCode !== 0 && inspect.RestartCount >= Number(max) && inspect.State.Status !== 'created';
}

/**
 * The instance as the port reports it: the container says whether it runs and where; berth's supervision
 * record (when there is one) says whether a stopped container is waiting out its back-off or was given up,
 * how often it was restarted and how it last exited.
 */
export function infoFrom(inspect: ContainerInspect, record?: SupervisionState): InstanceInfo {
  const labels = inspect.Config.Labels;
  const running = inspect.State.Running && !inspect.State.Restarting;
  // A handled exit (the record's) knows of a late OOM notice; an exit not handled yet only the engine knows.
  const lastExit = !running && (!record || record.state === 'running') ? exitOf(inspect) : (record?.lastExit ?? exitOf(inspect));
  return {
    id: labels[LABEL.instance],
    app: labels[LABEL.app] ?? '',
    release: labels[LABEL.release] ?? '',
    process: labels[LABEL.process] ?? '',
    state: runState(inspect, record),
    address: addressOf(inspect),
    ...(inspect.State.Pid ? { pid: inspect.State.Pid } : {}),
    restarts: record?.restarts ?? inspect.RestartCount,
    ...(lastExit ? { lastExit } : {}),
    detail: { container: inspect.Id.slice(0, 12) },
  };
}

function runState(inspect: ContainerInspect, record: SupervisionState | undefined): InstanceRunState {
  // An older container whose engine policy restarts it.
  if (inspect.State.Restarting) return 'restarting';
  if (inspect.State.Running) return 'running';
  if (record?.state === 'restarting' || record?.state === 'crashloop') return record.state;
  if (!record && legacyGaveUp(inspect)) return 'crashloop';
  // Stopped, and berth has not decided about it (yet): an exit being handled, or a container nobody supervises.
  return 'exited';
}

/** The values of the container's secret env vars, to mask in its logs. */
/** The secret values of a container, read back from its env through the label container-spec.ts writes. */
export function secretValues(inspect: ContainerInspect): string[] {
  const env = new Map<string, string>();
  for (const entry of inspect.Config.Env) {
    const eq = entry.indexOf('=');
    if (eq > 0) env.set(entry.slice(0, eq), entry.slice(eq + 1));
  }
  const out: string[] = [];
  for (const place of (inspect.Config.Labels[LABEL.secretNames] ?? '').split(',').filter(Boolean)) {
    const part = /^(.+)@(\d+):(\d+)$/.exec(place);
    const value = env.get(part ? part[1] : place);
    if (value === undefined) continue;
    if (!part) {
      out.push(value);
      continue;
    }
    // A password inside a URL is percent-encoded there; the app may print it decoded.
    const secret = value.slice(Number(part[2]), Number(part[3]));
    out.push(secret);
    try {
      const decoded = decodeURIComponent(secret);
      if (decoded !== secret) out.push(decoded);
    } catch {
      // not percent-encoding: the secret as it stands is all there is
    }
  }
  return out;
}
