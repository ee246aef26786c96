/**
 * What an instance, a one-off run or a service looks like to the Engine (pure): image, command, env,
 * labels (including berth's restart policy), limits, network and aliases, and how it is locked down
 * (containerSecurity()). Nothing is published on the host: the proxy reaches web instances on the app's
 * private network by container address.
 */
import { commandArgv } from '../command.ts';
import type { InstanceSpec, OneOffSpec, RestartPolicy } from '../driver.ts';
import { berthVariables } from '../instance-env.ts';
import type { ContainerCreate } from './engine.ts';
import { baseLabels, LABEL } from './names.ts';

/** Where berth's static server sits in images built for static sites. */
export const STATIC_SERVER_PATH = '.berth-build/static-server.js';
/** The port a web process listens on inside its container when the manifest names none. */
export const DEFAULT_CONTAINER_PORT = 3000;

/** Every container berth creates keeps at most 30 MB of log. */
export const LOG_CONFIG = { Type: 'json-file', Config: { 'max-size': '10m', 'max-file': '3' } };

export const toEnvList = (env: Record<string, string>) => Object.entries(env).map(([k, v]) => `${k}=${v}`);

/** Port of the container an InstanceSpec describes, if it has one. */
export const containerPortOf = (spec: Pick<InstanceSpec, 'port' | 'containerPort'>) => (spec.port ? (spec.containerPort ?? DEFAULT_CONTAINER_PORT) : spec.containerPort);

/**
 * Where the secrets are in the env, so logs can be masked later from the container alone (the label holds
 * names and offsets, never a value): `NAME` when the whole value is a secret, `NAME@start:end` for one inside
 * a value, such as a service's password inside `DATABASE_URL`. See inspect-info.ts: secretValues.
 */
export const secretNames = (env: Record<string, string>, secrets: readonly string[]): string[] => {
  const out: string[] = [];
  for (const [name, value] of Object.entries(env)) {
    if (secrets.includes(value)) {
      out.push(name);
      continue;
    }
    for (const secret of secrets) {
      if (!secret) continue;
      for (let at = value.indexOf(secret); at !== -1; at = value.indexOf(secret, at + secret.length)) out.push(`${name}@${at}:${at + secret.length}`);
    }
  }
  return out.sort();
};

/** Only the policy's own fields, in a fixed order. */
export const restartPolicyLabel = (policy: RestartPolicy): RestartPolicy => ({
  maxRestarts: policy.maxRestarts,
  windowMs: policy.windowMs,
  backoffMs: policy.backoffMs,
  maxBackoffMs: policy.maxBackoffMs,
});

/** Every container berth creates: nothing in it gains privileges through a setuid binary or file capabilities. */
export const NO_NEW_PRIVILEGES = 'no-new-privileges:true';
/** The writable /tmp of a read-only container: in memory (counted against its memory limit), 64 MB at most. */
export const READ_ONLY_TMPFS = { '/tmp': 'rw,nosuid,nodev,size=64m,mode=1777' };

export interface ContainerSecurity {
  /**
   * The image came from the Dockerfile berth generates: it runs as uid 1000 and serves on a port above
   * 1024 (a Node app, or the static server), so it needs no capability at all, and gets none. An image
   * from the app's own Dockerfile may run as root and need some (binding :80, chown on start): it keeps
   * the engine's defaults.
   */
  generatedImage: boolean;
  /** The manifest's `processes.<name>.read_only`: the root filesystem is read-only, /tmp is a tmpfs. */
  readOnlyRoot?: boolean;
}

/** The HostConfig fields that lock a container down. */
export function containerSecurity(security: ContainerSecurity) {
  return {
    SecurityOpt: [NO_NEW_PRIVILEGES],
    ...(security.generatedImage ? { CapDrop: ['ALL'] } : {}),
    ...(security.readOnlyRoot ? { ReadonlyRootfs: true, Tmpfs: { ...READ_ONLY_TMPFS } } : {}),
  };
}

export function instanceContainer(spec: InstanceSpec, options: { ownerId: string; network: string; generatedImage: boolean }): ContainerCreate {
  const port = containerPortOf(spec);
  const cmd = spec.staticRoot ? ['node', STATIC_SERVER_PATH, spec.staticRoot] : spec.command ? commandArgv(spec.command) : undefined;
  return {
    Image: spec.artifact,
    ...(cmd ? { Cmd: cmd } : {}),
    // HOST first: the app's own env may override it; berth's variables always win.
    Env: toEnvList({ HOST: '0.0.0.0', ...spec.env, ...(port ? { PORT: String(port) } : {}), ...berthVariables(spec) }),
    Labels: {
      ...baseLabels(options.ownerId, 'instance', spec.app),
      [LABEL.release]: spec.release,
      [LABEL.process]: spec.process,
      [LABEL.instance]: spec.id,
      [LABEL.secretNames]: secretNames(spec.env, spec.secrets).join(','),
      [LABEL.restartPolicy]: JSON.stringify(restartPolicyLabel(spec.restart)),
      ...(port ? { [LABEL.port]: String(port) } : {}),
    },
    ...(port ? { ExposedPorts: { [`${port}/tcp`]: {} } } : {}),
    StopTimeout: Math.max(1, Math.ceil(spec.stopTimeoutMs / 1000)),
    HostConfig: {
      NetworkMode: options.network,
      // berth supervises, not the engine (./supervisor.ts): the engine's policies count restarts over the
      // container's whole life with their own back-off, and `on-failure` ignores an exit with code 0.
      RestartPolicy: { Name: 'no' },
      ...(spec.resources?.memoryBytes ? { Memory: spec.resources.memoryBytes, MemorySwap: spec.resources.memoryBytes } : {}),
      ...(spec.resources?.cpus ? { NanoCpus: Math.round(spec.resources.cpus * 1e9) } : {}),
      // tini as PID 1: signals reach the app, zombies are reaped.
      Init: true,
      LogConfig: LOG_CONFIG,
      ...containerSecurity({ generatedImage: options.generatedImage, readOnlyRoot: spec.readOnlyRoot === true }),
    },
    NetworkingConfig: { EndpointsConfig: { [options.network]: { Aliases: [spec.process] } } },
  };
}

/** A one-off run is locked down as the image's instances are, with a writable root (a release command may write). */
export function oneOffContainer(spec: OneOffSpec, options: { ownerId: string; network: string; generatedImage: boolean }): ContainerCreate {
  return {
    Image: spec.artifact,
    Cmd: ['sh', '-c', spec.command],
    Env: toEnvList({ HOST: '0.0.0.0', ...spec.env, ...berthVariables({ id: spec.id, app: spec.app, release: spec.release, process: 'one-off' }) }),
    Labels: {
      ...baseLabels(options.ownerId, 'one-off', spec.app),
      [LABEL.release]: spec.release,
      [LABEL.process]: 'one-off',
      [LABEL.instance]: spec.id,
      [LABEL.secretNames]: secretNames(spec.env, spec.secrets).join(','),
    },
    HostConfig: { NetworkMode: options.network, RestartPolicy: { Name: 'no' }, Init: true, LogConfig: LOG_CONFIG, ...containerSecurity({ generatedImage: options.generatedImage }) },
  };
}
