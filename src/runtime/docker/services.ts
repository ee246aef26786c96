/**
 * Accessories (Redis, Postgres, any image): long-lived containers of an app, kept across its releases,
 * on the app's private network only (reachable by their name, never published), with named volumes
 * that survive them and a health check the engine runs. A service whose spec changed is recreated.
 */
import { createHash } from 'node:crypto';
import type { Logger } from '../../lib/log.ts';
import type { AccessoryRuntime, AccessorySpec, AccessoryState } from '../driver.ts';
import { LOG_CONFIG, toEnvList } from './container-spec.ts';
import type { ContainerCreate, DockerEngine } from './engine.ts';
import { baseLabels, LABEL, ownerFilter, serviceContainerName, volumeName } from './names.ts';

const NS = 1_000_000;

export const specHash = (spec: AccessorySpec) => createHash('sha256').update(JSON.stringify(spec)).digest('hex').slice(0, 16);

export function serviceContainer(spec: AccessorySpec, options: { ownerId: string; network: string }): ContainerCreate {
  return {
    Image: spec.image,
    ...(spec.command ? { Cmd: ['sh', '-c', spec.command] } : {}),
    Env: toEnvList(spec.env),
    Labels: { ...baseLabels(options.ownerId, 'service', spec.app), [LABEL.service]: spec.name, [LABEL.specHash]: specHash(spec) },
    ...(spec.health
      ? {
          Healthcheck: {
            Test: ['CMD-SHELL', spec.health.command],
            Interval: spec.health.intervalMs * NS,
            Timeout: spec.health.timeoutMs * NS,
            Retries: spec.health.retries,
            StartPeriod: spec.health.startPeriodMs * NS,
          },
        }
      : {}),
    HostConfig: {
      NetworkMode: options.network,
      RestartPolicy: { Name: 'unless-stopped' },
      Mounts: Object.entries(spec.volumes).map(([volume, target]) => ({ Type: 'volume' as const, Source: volumeName(options.ownerId, spec.app, volume), Target: target })),
      Init: true,
      LogConfig: LOG_CONFIG,
    },
    NetworkingConfig: { EndpointsConfig: { [options.network]: { Aliases: [spec.name] } } },
  };
}

export function createServiceRuntime(options: { engine: DockerEngine; ownerId: string; network: (app: string) => Promise<string>; log: Logger }): AccessoryRuntime {
  const { engine, ownerId } = options;
  const name = (app: string, service: string) => serviceContainerName(ownerId, app, service);

  const state = async (app: string, service: string): Promise<AccessoryState> => {
    const info = await engine.inspectContainer(name(app, service));
    if (!info) return 'missing';
    if (!info.State.Running) return 'exited';
    return info.State.Health?.Status ?? 'running';
  };

  return {
    async ensure(spec) {
      const net = await options.network(spec.app);
      const existing = await engine.inspectContainer(name(spec.app, spec.name));
      if (existing && existing.Config.Labels[LABEL.specHash] === specHash(spec)) {
        if (!existing.State.Running) await engine.startContainer(existing.Id);
        return { changed: false };
      }
      if (existing) {
        options.log.info('recreating a service whose spec changed', { app: spec.app, service: spec.name });
        await engine.stopContainer(existing.Id, 10);
        await engine.removeContainer(existing.Id, { force: true });
      }
      for (const volume of Object.keys(spec.volumes)) {
        const volumeFullName = volumeName(ownerId, spec.app, volume);
        const known = await engine.listVolumes({ name: [volumeFullName] });
        if (!known.some((v) => v.Name === volumeFullName)) await engine.createVolume(volumeFullName, { ...baseLabels(ownerId, 'volume', spec.app), [LABEL.service]: spec.name });
      }
      const id = await engine.createContainer(name(spec.app, spec.name), serviceContainer(spec, { ownerId, network: net }));
      await engine.startContainer(id);
      return { changed: true };
    },

    state,

    async list(app) {
      const containers = await engine.listContainers({ all: true, filters: ownerFilter(ownerId, [`${LABEL.kind}=service`, `${LABEL.app}=${app}`]) });
      return Promise.all(containers.map(async (c) => ({ name: c.Labels[LABEL.service], state: await state(app, c.Labels[LABEL.service]) })));
    },

    async remove(app, service) {
      const info = await engine.inspectContainer(name(app, service));
      if (!info) return;
      await engine.stopContainer(info.Id, 10);
      await engine.removeContainer(info.Id, { force: true });
    },
  };
}
