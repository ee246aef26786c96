/**
 * What an instance, a one-off run or a service looks like to the Engine (pure): image, command, env,
 * labels (including berth's restart policy), limits, network and aliases. Nothing is published on the
 * host: the proxy reaches web instances on the app's private network by container address.
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

/** Names of env vars whose values are secrets, so logs can be masked later from the container alone. */
export const secretNames = (env: Record<string, string>, secrets: readonly string[]) =>
  Object.entries(env)
    .filter(([, v]) => secrets.includes(v))
    .map(([k]) => k)
    .sort();

/** Only the policy's own fields, in a fixed order. */
export const restartPolicyLabel = (policy: RestartPolicy): RestartPolicy => ({
  maxRestarts: policy.maxRestarts,
  windowMs: policy.windowMs,
  backoffMs: policy.backoffMs,
  maxBackoffMs: policy.maxBackoffMs,
});

export function instanceContainer(spec: InstanceSpec, options: { ownerId: string; network: string }): ContainerCreate {
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
    },
    NetworkingConfig: { EndpointsConfig: { [options.network]: { Aliases: [spec.process] } } },
  };
}

export function oneOffContainer(spec: OneOffSpec, options: { ownerId: string; network: string }): ContainerCreate {
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
    HostConfig: { NetworkMode: options.network, RestartPolicy: { Name: 'no' }, Init: true, LogConfig: LOG_CONFIG },
  };
}
