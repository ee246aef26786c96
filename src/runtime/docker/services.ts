/**
 * Accessories (Redis, Postgres, any image): long-lived containers of an app, kept across its releases,
 * on the app's private network only (reachable by their name, never published), with named volumes
 * that survive them and a health check the engine runs. A service whose spec changed is recreated.
 *
 * They run as long as berth runs their app: `berth down` stops them with the instances (stopAll(); the
 * containers and volumes stay), and the next daemon starts them again (resume(), from the driver's
 * adopt(), before any instance starts), waiting a bounded time for those with a health check.
 */
import { createHash } from 'node:crypto';
import type { Clock } from '../../lib/clock.ts';
import type { Logger } from '../../lib/log.ts';
import type { AccessoryRuntime, AccessorySpec, AccessoryState, ImageRuntime } from '../driver.ts';
import { LOG_CONFIG, NO_NEW_PRIVILEGES, toEnvList } from './container-spec.ts';
import type { ContainerCreate, ContainerInspect, ContainerSummary, DockerEngine } from './engine.ts';
import { baseLabels, LABEL, ownerFilter, serviceContainerName, volumeName } from './names.ts';

const NS = 1_000_000;
/** Seconds a service gets to stop cleanly (Redis and Postgres flush to their volume on SIGTERM). */
const STOP_SECONDS = 10;
/** How long resume() waits for resumed services to be healthy before the instances that need them start. */
const RESUME_HEALTHY_MS = 30_000;
const RESUME_POLL_MS = 250;

/** Of what the container is made from: the progress callback is not part of it. */
export const specHash = (spec: AccessorySpec) => {
  const { onPull: _, ...made } = spec;
  return createHash('sha256').update(JSON.stringify(made)).digest('hex').slice(0, 16);
};

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
      // Capabilities stay as the image needs them (the official images start as root and drop to their own
      // user with gosu, which needs CAP_SETUID); gaining more through a setuid binary is never needed.
      SecurityOpt: [NO_NEW_PRIVILEGES],
    },
    NetworkingConfig: { EndpointsConfig: { [options.network]: { Aliases: [spec.name] } } },
  };
}

export interface DockerServiceRuntime extends AccessoryRuntime {
  /** Starts every service container of berth's that is stopped, then waits (bounded) until they are healthy. */
  resume(): Promise<void>;
}

/** Stopped service containers (by `berth down`, or never started): those resume() starts again. */
export const isStopped = (container: ContainerSummary) => container.State === 'exited' || container.State === 'created';

/**
 * Whether resume() is done waiting for a service: it is not running, has no health check (running is all
 * there is to know), or its check has decided (unhealthy: the instances' own gates will say so).
 */
export function healthSettled(info: ContainerInspect | undefined): boolean {
  const health = info?.State.Health?.Status;
  return !info?.State.Running || health === undefined || health === 'healthy' || health === 'unhealthy';
}

export interface ServiceRuntimeOptions {
  engine: DockerEngine;
  ownerId: string;
  /** The app's private network, created on first use. */
  network: (app: string) => Promise<string>;
  /** Pulls a service's image when it is missing. */
  images: ImageRuntime;
  log: Logger;
  clock: Clock;
}

export class ServiceRuntime implements DockerServiceRuntime {
  readonly #engine: DockerEngine;
  readonly #ownerId: string;
  readonly #network: (app: string) => Promise<string>;
  readonly #images: ImageRuntime;
  readonly #log: Logger;
  readonly #clock: Clock;

  constructor(options: ServiceRuntimeOptions) {
    this.#engine = options.engine;
    this.#ownerId = options.ownerId;
    this.#network = options.network;
    this.#images = options.images;
    this.#log = options.log;
    this.#clock = options.clock;
  }

  async ensure(spec: AccessorySpec): Promise<{ changed: boolean }> {
    const engine = this.#engine;
    const existing = await engine.inspectContainer(this.#name(spec.app, spec.name));
    if (existing && existing.Config.Labels[LABEL.specHash] === specHash(spec)) {
      if (!existing.State.Running) await engine.startContainer(existing.Id);
      return { changed: false };
    }
    // Before anything changes: a pull that fails leaves the running service (and the app's network) as they were.
    await this.#images.ensure(spec.image, spec.onPull ? { onPull: spec.onPull } : {});
    const net = await this.#network(spec.app);
    if (existing) {
      this.#log.info('recreating a service whose spec changed', { app: spec.app, service: spec.name });
      await engine.stopContainer(existing.Id, STOP_SECONDS);
      await engine.removeContainer(existing.Id, { force: true });
    }
    for (const volume of Object.keys(spec.volumes)) {
      const volumeFullName = volumeName(this.#ownerId, spec.app, volume);
      const known = await engine.listVolumes({ name: [volumeFullName] });
      if (!known.some((v) => v.Name === volumeFullName)) await engine.createVolume(volumeFullName, { ...baseLabels(this.#ownerId, 'volume', spec.app), [LABEL.service]: spec.name });
    }
    const id = await engine.createContainer(this.#name(spec.app, spec.name), serviceContainer(spec, { ownerId: this.#ownerId, network: net }));
    await engine.startContainer(id);
    return { changed: true };
  }

  async state(app: string, service: string): Promise<AccessoryState> {
    const info = await this.#engine.inspectContainer(this.#name(app, service));
    if (!info) return 'missing';
    if (!info.State.Running) return 'exited';
    return info.State.Health?.Status ?? 'running';
  }

  async list(app: string): Promise<{ name: string; state: AccessoryState }[]> {
    const containers = await this.#engine.listContainers({ all: true, filters: ownerFilter(this.#ownerId, [`${LABEL.kind}=service`, `${LABEL.app}=${app}`]) });
    return Promise.all(containers.map(async (c) => ({ name: c.Labels[LABEL.service], state: await this.state(app, c.Labels[LABEL.service]) })));
  }

  async remove(app: string, service: string): Promise<void> {
    const info = await this.#engine.inspectContainer(this.#name(app, service));
    if (!info) return;
    await this.#engine.stopContainer(info.Id, STOP_SECONDS);
    await this.#engine.removeContainer(info.Id, { force: true });
  }

  async stopAll(): Promise<void> {
    // Stopped, not removed: the engine keeps a stopped `unless-stopped` container down, even across its own restarts.
    const running = await this.#services({ all: false });
    await Promise.all(running.map((c) => this.#engine.stopContainer(c.Id, STOP_SECONDS)));
    if (running.length > 0) this.#log.info('stopped the services', { count: running.length });
  }

  async resume(): Promise<void> {
    const stopped = (await this.#services({ all: true })).filter(isStopped);
    const started: string[] = [];
    for (const c of stopped) {
      try {
        await this.#engine.startContainer(c.Id);
        started.push(c.Id);
      } catch (error) {
        this.#log.warn('could not start a service again', { service: c.Labels[LABEL.service], app: c.Labels[LABEL.app], error: error as Error });
      }
    }
    if (started.length === 0) return;
    this.#log.info('started the services again', { count: started.length });
    await this.#untilHealthy(started);
  }

  /** Waits for the services started again to settle, up to RESUME_HEALTHY_MS for all of them together. */
  async #untilHealthy(ids: string[]): Promise<void> {
    const deadline = this.#clock.now() + RESUME_HEALTHY_MS;
    for (const id of ids) {
      for (;;) {
        const info = await this.#engine.inspectContainer(id);
        if (healthSettled(info)) break;
        if (this.#clock.now() >= deadline) {
          this.#log.warn('a service is not healthy yet; starting the instances anyway', { service: info!.Config.Labels[LABEL.service] });
          return;
        }
        await this.#clock.sleep(RESUME_POLL_MS);
      }
    }
  }

  #name(app: string, service: string): string {
    return serviceContainerName(this.#ownerId, app, service);
  }

  #services(listOptions: { all: boolean }): Promise<ContainerSummary[]> {
    return this.#engine.listContainers({ ...listOptions, filters: ownerFilter(this.#ownerId, [`${LABEL.kind}=service`]) });
  }
}
