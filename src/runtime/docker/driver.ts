/**
 * The `docker` runtime driver: builds images and runs instances as containers through the Docker Engine
 * API (./engine.ts), on one private network per app, never publishing ports. berth supervises, not the
 * engine: ./supervisor.ts applies the shared restart policy on each exit it reads from the engine's
 * events (./event-watch.ts), restarts containers itself after the back-off, and follows them to new
 * addresses (see there for why, and what that means while berth's daemon is down). Everything it creates
 * is labelled with berth's owner id; nothing else is ever touched. Logs of stopped instances are archived
 * before their container goes (./container-logs.ts). An image it did not build (an image app's, a
 * service's, a build's FROM) is pulled when missing before anything is created for it (./images.ts), with
 * the credentials `registryAuth` gives for its registry. This class wires those parts and runs the instance
 * lifecycle itself: start, stop, adoption, removal; one-off runs, health checks, services and pulls have
 * modules of their own.
 */
import { join } from 'node:path';
import { fail, isBerthError } from '../../errors/catalogue.ts';
import { systemClock, type Clock } from '../../lib/clock.ts';
import type { Logger } from '../../lib/log.ts';
import type { AccessoryRuntime, BuildRequest, BuildResult, HealthCheck, HealthResult, ImageRuntime, InstanceInfo, InstanceSpec, InstanceUsage, LogLine, LogPruneResult, LogQuery, OneOffResult, OneOffSpec, RuntimeDriver } from '../driver.ts';
import { driverListeners, missingInstance, type DriverListeners } from '../listeners.ts';
import { createMasker } from '../mask-secrets.ts';
import { BuildQueue, buildImage, type BuildCaps } from './build.ts';
import { ContainerLogs } from './container-logs.ts';
import { instanceContainer } from './container-spec.ts';
import type { ContainerInspect, DockerEngine } from './engine.ts';
import { EngineEventWatch } from './event-watch.ts';
import { checkContainerHealth } from './health-check.ts';
import { holdingsOf } from './holdings.ts';
import { isImageId } from './image-ref.ts';
import { DockerImages, type PullLimits, type RegistryAuth } from './images.ts';
import { infoFrom } from './inspect-info.ts';
import { containerName, fromGeneratedDockerfile, imageTag, LABEL, ownerFilter } from './names.ts';
import { AppNetworks } from './networks.ts';
import { runOneOffContainer } from './one-off.ts';
import { ServiceRuntime } from './services.ts';
import { SupervisionStore } from './supervision-state.ts';
import { DockerSupervisor } from './supervisor.ts';
import { tagOwnImage } from './tags.ts';
import { containersUsage } from './usage.ts';

export interface DockerDriverOptions {
  engine: DockerEngine;
  ownerId: string;
  /** Where logs of stopped instances and supervision records are kept (DATA/runtime/docker). */
  root: string;
  log: Logger;
  /** Base image of the Dockerfile berth generates for Node apps. */
  nodeImage: string;
  build: BuildCaps & { concurrency?: number };
  /** The X-Registry-Auth value for a registry host, when berth has credentials for it (`berth registry login`). */
  registryAuth?: RegistryAuth;
  /** Bounds of every pull (./images.ts: DEFAULT_PULL_LIMITS). */
  pull?: Partial<PullLimits>;
  clock?: Clock;
}

export interface DockerDriver extends RuntimeDriver {
  readonly services: AccessoryRuntime;
  readonly images: ImageRuntime;
}

export function createDockerDriver(options: DockerDriverOptions): DockerDriver {
  return new DockerRuntimeDriver(options);
}

export class DockerRuntimeDriver implements DockerDriver {
  readonly name = 'docker';
  readonly services: ServiceRuntime;
  readonly images: DockerImages;
  readonly subscribe: DriverListeners['subscribe'];
  readonly #engine: DockerEngine;
  readonly #ownerId: string;
  readonly #options: DockerDriverOptions;
  readonly #log: Logger;
  readonly #logs: ContainerLogs;
  readonly #builds: BuildQueue;
  readonly #listeners: DriverListeners;
  readonly #lifetime = new AbortController();
  readonly #supervisor: DockerSupervisor;
  readonly #networks: AppNetworks;
  readonly #stops = new Map<string, Promise<void>>();

  constructor(options: DockerDriverOptions) {
    const { engine, ownerId } = options;
    const clock = options.clock ?? systemClock;
    this.#engine = engine;
    this.#ownerId = ownerId;
    this.#options = options;
    this.#log = options.log.child({ component: 'runtime', driver: 'docker' });
    this.#logs = new ContainerLogs(engine, join(options.root, 'logs'));
    this.#builds = new BuildQueue(options.build.concurrency ?? 1);
    this.#listeners = driverListeners(this.#log);
    this.subscribe = this.#listeners.subscribe;
    this.#supervisor = new DockerSupervisor({ engine, store: new SupervisionStore(join(options.root, 'instances')), clock, log: this.#log, emit: (events) => this.#listeners.emit(...events) });
    this.#networks = new AppNetworks(engine, ownerId);
    this.images = new DockerImages({ engine, log: this.#log, ...(options.registryAuth ? { registryAuth: options.registryAuth } : {}), ...(options.pull ? { limits: options.pull } : {}) });
    this.services = new ServiceRuntime({ engine, ownerId, network: (app) => this.#networks.ensure(app), images: this.images, log: this.#log, clock });
    void new EngineEventWatch({ engine, ownerId, clock, log: this.#log, sink: this.#supervisor, signal: this.#lifetime.signal }).run();
  }

  build(request: BuildRequest): Promise<BuildResult> {
    const options = this.#options;
    return this.#builds.run(() => buildImage({ engine: this.#engine, images: this.images, request, ownerId: this.#ownerId, nodeImage: options.nodeImage, caps: options.build }), request.signal);
  }

  async removeArtifact(artifact: string): Promise<void> {
    const engine = this.#engine;
    const app = (await engine.inspectImage(artifact))?.Labels?.[LABEL.app];
    await engine.removeImage(artifact, { force: true });
    if (!app) return;
    // Build-stage images no newer build still uses are left dangling: they go too.
    for (const image of await engine.listImages({ dangling: ['true'], ...ownerFilter(this.#ownerId, [`${LABEL.app}=${app}`]) })) {
      await engine.removeImage(image.Id, { force: true }).catch(() => {});
    }
  }

  async start(spec: InstanceSpec): Promise<InstanceInfo> {
    // An image app's image, pulled before the network or anything else is made for it.
    await this.#ensureImage(spec.artifact, spec.onPull);
    const net = await this.#networks.ensure(spec.app);
    return this.#supervisor.serial(spec.id, async () => {
      // A container left from an earlier life of this instance (given up, or stopped) makes way.
      const leftover = await this.#inspect(spec.id);
      if (leftover?.State.Running) throw fail('START_FAILED', { reason: `instance ${spec.id} is already running` });
      this.#supervisor.forget(spec.id);
      if (leftover) await this.#removeContainer(spec.id, leftover);
      try {
        return await this.#createAndStart(spec, net);
      } catch (error) {
        this.#supervisor.forget(spec.id);
        await this.#engine.removeContainer(containerName(spec.id), { force: true }).catch(() => {});
        if (isBerthError(error)) throw error;
        // The engine echoes a bad env entry (Go-quoted) in its error: masked before it goes anywhere.
        throw fail('START_FAILED', { reason: createMasker(spec.secrets)((error as Error).message) });
      }
    });
  }

  stop(id: string): Promise<void> {
    const pending = this.#stops.get(id);
    if (pending) return pending;
    const supervisor = this.#supervisor;
    supervisor.hold(id);
    const stopping = supervisor
      .serial(id, async () => {
        const info = await this.#inspect(id);
        if (info) {
          await this.#engine.stopContainer(info.Id, info.Config.StopTimeout ?? 10);
          await this.#removeContainer(id, await this.#engine.inspectContainer(info.Id));
        }
        supervisor.forget(id);
      })
      .finally(() => {
        this.#stops.delete(id);
        supervisor.release(id);
      });
    this.#stops.set(id, stopping);
    return stopping;
  }

  async inspect(id: string): Promise<InstanceInfo> {
    const info = await this.#inspect(id);
    return info ? this.#describe(info) : missingInstance(id);
  }

  async list(): Promise<InstanceInfo[]> {
    return (await this.#instanceContainers()).map((c) => this.#describe(c));
  }

  async adopt(): Promise<InstanceInfo[]> {
    await this.#removeLeftovers();
    // Services `berth down` stopped come back first: the instances started again below may need them.
    await this.services.resume();
    const containers = await this.#instanceContainers();
    await this.#supervisor.adopt(containers);
    // Those adopt() found running are as they were; the others it may have acted on (or found removed).
    const now = await Promise.all(containers.map(async (c) => (c.State.Running ? c : await this.#engine.inspectContainer(c.Id))));
    const found = now.filter((c): c is ContainerInspect => c !== undefined).map((c) => this.#describe(c));
    this.#log.info('adopted containers', { count: found.length });
    return found;
  }

  logs(id: string, query: LogQuery): AsyncIterable<LogLine> {
    return this.#logs.read(id, query);
  }

  async removeLogs(app: string, release: string): Promise<void> {
    this.#logs.remove(app, release);
  }

  async pruneLogs(olderThan: number): Promise<LogPruneResult> {
    return this.#logs.prune(olderThan);
  }

  async holdings(): Promise<{ apps: string[]; artifacts: string[] }> {
    const engine = this.#engine;
    const mine = ownerFilter(this.#ownerId);
    const [containers, networks, volumes, images] = await Promise.all([
      engine.listContainers({ all: true, filters: mine }),
      engine.listNetworks(mine),
      engine.listVolumes(mine),
      engine.listImages(mine),
    ]);
    return holdingsOf({ containers, networks, volumes, images });
  }

  async removeApp(app: string): Promise<void> {
    const engine = this.#engine;
    const mine = ownerFilter(this.#ownerId, [`${LABEL.app}=${app}`]);
    for (const c of await engine.listContainers({ all: true, filters: mine })) {
      const instance = c.Labels[LABEL.kind] === 'instance' ? c.Labels[LABEL.instance] : undefined;
      if (instance) await this.#removeInstanceContainer(instance, c.Id);
      else await engine.removeContainer(c.Id, { force: true, volumes: true });
    }
    for (const n of await engine.listNetworks(mine)) await engine.removeNetwork(n.Id);
    this.#networks.forget(app);
    for (const v of await engine.listVolumes(mine)) await engine.removeVolume(v.Name);
    for (const image of await engine.listImages(mine)) await engine.removeImage(image.Id, { force: true }).catch(() => {});
    this.#logs.remove(app);
  }

  async runOnce(spec: OneOffSpec): Promise<OneOffResult> {
    await this.#ensureImage(spec.artifact, spec.onPull, spec.signal);
    const network = await this.#networks.ensure(spec.app);
    return runOneOffContainer({ engine: this.#engine, ownerId: this.#ownerId, network, spec });
  }

  async checkHealth(id: string, check: HealthCheck): Promise<HealthResult> {
    return checkContainerHealth(this.#engine, id, await this.#inspect(id), check);
  }

  restart(id: string): Promise<void> {
    return this.#supervisor.restart(id);
  }

  usage(ids: readonly string[]): Promise<InstanceUsage[]> {
    return containersUsage(this.#engine, ids);
  }

  async close(): Promise<void> {
    this.#lifetime.abort();
    await this.#supervisor.close();
    this.#listeners.clear();
  }

  /** An image berth did not build is pulled when missing; one it built (an image id) is used as it is. */
  async #ensureImage(artifact: string, onPull: InstanceSpec['onPull'], signal?: AbortSignal): Promise<void> {
    if (isImageId(artifact)) return;
    await this.images.ensure(artifact, { ...(onPull ? { onPull } : {}), ...(signal ? { signal } : {}) });
  }

  #inspect(id: string): Promise<ContainerInspect | undefined> {
    return this.#engine.inspectContainer(containerName(id));
  }

  #describe(container: ContainerInspect): InstanceInfo {
    return infoFrom(container, this.#supervisor.record(container.Config.Labels[LABEL.instance]));
  }

  /** start()'s container: tagged image, created on the app's network, started, supervised. */
  async #createAndStart(spec: InstanceSpec, network: string): Promise<InstanceInfo> {
    const engine = this.#engine;
    // <app>:<release> on an image berth built, unless that tag names an image that is not this berth's (never
    // taken over). A pulled image (an image app's, by digest) keeps only its own name, so it can go again.
    if (isImageId(spec.artifact)) {
      const tagged = await tagOwnImage(engine, { image: spec.artifact, ref: imageTag(spec.app, spec.release), ownerId: this.#ownerId });
      if (tagged.warning) this.#log.warn('release tag not set', { app: spec.app, ref: tagged.ref, reason: tagged.warning });
    }
    const generatedImage = fromGeneratedDockerfile((await engine.inspectImage(spec.artifact))?.Labels);
    const id = await engine.createContainer(containerName(spec.id), instanceContainer(spec, { ownerId: this.#ownerId, network, generatedImage }));
    await engine.startContainer(id);
    const now = await engine.inspectContainer(id);
    if (!now) throw new Error('the container vanished right after it started');
    return infoFrom(now, this.#supervisor.started(now));
  }

  /** A stopped container goes, its logs kept first. */
  async #removeContainer(id: string, info: ContainerInspect | undefined): Promise<void> {
    if (!info) return;
    await this.#logs.keep(info).catch((error) => this.#log.warn('could not keep the logs of a stopped instance', { instance: id, error: error as Error }));
    await this.#engine.removeContainer(info.Id, { force: true });
  }

  /** removeApp()'s removal of an instance's container, with its supervision held meanwhile. */
  async #removeInstanceContainer(instance: string, containerId: string): Promise<void> {
    const supervisor = this.#supervisor;
    supervisor.hold(instance);
    try {
      await supervisor.serial(instance, async () => {
        await this.#engine.removeContainer(containerId, { force: true, volumes: true });
        supervisor.forget(instance);
      });
    } finally {
      supervisor.release(instance);
    }
  }

  /** What a crash can leave half-done: one-off runs, and the dangling layers of an interrupted build. */
  async #removeLeftovers(): Promise<void> {
    const engine = this.#engine;
    for (const c of await engine.listContainers({ all: true, filters: ownerFilter(this.#ownerId, [`${LABEL.kind}=one-off`]) })) {
      await engine.removeContainer(c.Id, { force: true });
    }
    for (const image of await engine.listImages({ dangling: ['true'], ...ownerFilter(this.#ownerId) })) {
      await engine.removeImage(image.Id, { force: true }).catch(() => {});
    }
  }

  /** Every instance container of this berth's, inspected. */
  async #instanceContainers(): Promise<ContainerInspect[]> {
    const containers = await this.#engine.listContainers({ all: true, filters: ownerFilter(this.#ownerId, [`${LABEL.kind}=instance`]) });
    const found: ContainerInspect[] = [];
    for (const c of containers) {
      const full = await this.#engine.inspectContainer(c.Id);
      if (full?.Config.Labels[LABEL.instance]) found.push(full);
    }
    return found;
  }
}
