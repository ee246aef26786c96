/**
 * The `docker` runtime driver: builds images and runs instances as containers through the Docker Engine
 * API (./engine.ts), on one private network per app, never publishing ports. berth supervises, not the
 * engine: ./supervisor.ts applies the shared restart policy on each exit it reads from the engine's
 * events, restarts containers itself after the back-off, and follows them to new addresses (see there
 * for why, and what that means while berth's daemon is down). Everything it creates is labelled with
 * berth's owner id; nothing else is ever touched. Logs of stopped instances are archived before their
 * container goes.
 */
import { join } from 'node:path';
import { fail, isBerthError } from '../../errors/catalogue.ts';
import { systemClock, type Clock } from '../../lib/clock.ts';
import type { Logger } from '../../lib/log.ts';
import type { AccessoryRuntime, HealthCheck, HealthResult, InstanceInfo, InstanceSpec, LogLine, OneOffResult, OneOffSpec, RuntimeDriver } from '../driver.ts';
import { driverListeners, missingInstance } from '../listeners.ts';
import { selectLogLines } from '../log-query.ts';
import { createMasker } from '../mask-secrets.ts';
import { LogArchive } from './archive-logs.ts';
import { BuildQueue, buildImage, type BuildCaps } from './build.ts';
import { instanceContainer, oneOffContainer } from './container-spec.ts';
import type { ContainerInspect, DockerEngine } from './engine.ts';
import { infoFrom, secretValues } from './inspect-info.ts';
import { baseLabels, containerName, fromGeneratedDockerfile, imageTag, LABEL, networkName, ownerFilter } from './names.ts';
import { tagOwnImage } from './tags.ts';
import { createServiceRuntime } from './services.ts';
import { SeenEvents } from './seen-events.ts';
import { SupervisionStore } from './supervision-state.ts';
import { createDockerSupervisor } from './supervisor.ts';

export interface DockerDriverOptions {
  engine: DockerEngine;
  ownerId: string;
  /** Where logs of stopped instances and supervision records are kept (DATA/runtime/docker). */
  root: string;
  log: Logger;
  /** Base image of the Dockerfile berth generates for Node apps. */
  nodeImage: string;
  build: BuildCaps & { concurrency?: number };
  clock?: Clock;
}

export interface DockerDriver extends RuntimeDriver {
  readonly services: AccessoryRuntime;
}

export function createDockerDriver(options: DockerDriverOptions): DockerDriver {
  const { engine, ownerId } = options;
  const clock = options.clock ?? systemClock;
  const log = options.log.child({ component: 'runtime', driver: 'docker' });
  const archive = new LogArchive(join(options.root, 'logs'));
  const builds = new BuildQueue(options.build.concurrency ?? 1);
  const listeners = driverListeners(log);
  const lifetime = new AbortController();
  const supervisor = createDockerSupervisor({ engine, store: new SupervisionStore(join(options.root, 'instances')), clock, log, emit: (events) => listeners.emit(...events) });
  const services = createServiceRuntime({ engine, ownerId, network: (app) => network(app), log, clock });
  const stops = new Map<string, Promise<void>>();
  const networks = new Map<string, Promise<string>>();

  /** The app's private network, created on first use. */
  const network = (app: string): Promise<string> => {
    let pending = networks.get(app);
    if (!pending) {
      const name = networkName(ownerId, app);
      pending = (async () => {
        const existing = await engine.listNetworks({ name: [name] });
        if (!existing.some((n) => n.Name === name)) await engine.createNetwork(name, baseLabels(ownerId, 'network', app));
        return name;
      })();
      pending.catch(() => networks.delete(app));
      networks.set(app, pending);
    }
    return pending;
  };

  const inspect = (id: string) => engine.inspectContainer(containerName(id));

  const watch = async () => {
    // A reconnect resumes a little before the newest event seen, so a die or start in the gap is not lost
    // (what comes twice is skipped, ./seen-events.ts: events arrive out of time order, so "older than the
    // last one" is no test for "seen"); and since a lost stream usually means the engine restarted
    // (containers stopped, new addresses), every instance is looked at again once it is back.
    const seen = new SeenEvents();
    let lost = false;
    while (!lifetime.signal.aborted) {
      if (lost && !(await engine.ping())) {
        await clock.sleep(1000, lifetime.signal).catch(() => {});
        continue;
      }
      try {
        const filters = { type: ['container'], event: ['die', 'start', 'oom', 'kill'], ...ownerFilter(ownerId, [`${LABEL.kind}=instance`]) };
        const resumeFrom = seen.resumeFrom;
        const events = engine.events({ filters, signal: lifetime.signal, ...(resumeFrom !== undefined ? { sinceNano: resumeFrom } : {}) });
        if (lost) {
          lost = false;
          void supervisor.resync().catch((error) => log.warn('resync after the engine came back failed', { error: error as Error }));
        }
        for await (const event of events) if (seen.add(event)) supervisor.onEvent(event);
      } catch (error) {
        if (lifetime.signal.aborted) return;
        log.warn('lost the engine event stream; reconnecting', { error: error as Error });
      }
      if (lifetime.signal.aborted) return;
      if (!lost) {
        lost = true;
        supervisor.streamLost();
      }
      await clock.sleep(1000, lifetime.signal).catch(() => {});
    }
  };
  void watch();

  /** Copies what a container wrote into berth's archive (masked), so it outlives the container. */
  const archiveLogs = async (info: ContainerInspect) => {
    const labels = info.Config.Labels;
    const mask = createMasker(secretValues(info));
    const lines = [];
    for await (const entry of engine.containerLogs(info.Id, {})) lines.push({ ts: entry.ts, stream: entry.stream, line: mask(entry.line) });
    archive.save({ app: labels[LABEL.app] ?? 'unknown', release: labels[LABEL.release] ?? 'unknown', id: labels[LABEL.instance] }, lines);
  };

  const removeContainer = async (id: string, info: ContainerInspect | undefined) => {
    if (!info) return;
    await archiveLogs(info).catch((error) => log.warn('could not keep the logs of a stopped instance', { instance: id, error: error as Error }));
    await engine.removeContainer(info.Id, { force: true });
  };

  const instanceContainers = async (): Promise<ContainerInspect[]> => {
    const containers = await engine.listContainers({ all: true, filters: ownerFilter(ownerId, [`${LABEL.kind}=instance`]) });
    const found: ContainerInspect[] = [];
    for (const c of containers) {
      const full = await engine.inspectContainer(c.Id);
      if (full?.Config.Labels[LABEL.instance]) found.push(full);
    }
    return found;
  };

  const describe = (container: ContainerInspect) => infoFrom(container, supervisor.record(container.Config.Labels[LABEL.instance]));
  const list = async (): Promise<InstanceInfo[]> => (await instanceContainers()).map(describe);

  return {
    name: 'docker',
    services,

    build: (request) => builds.run(() => buildImage({ engine, request, ownerId, nodeImage: options.nodeImage, caps: options.build }), request.signal),

    async removeArtifact(artifact) {
      const app = (await engine.inspectImage(artifact))?.Labels?.[LABEL.app];
      await engine.removeImage(artifact, { force: true });
      if (!app) return;
      // Build-stage images no newer build still uses are left dangling: they go too.
      for (const image of await engine.listImages({ dangling: ['true'], ...ownerFilter(ownerId, [`${LABEL.app}=${app}`]) })) {
        await engine.removeImage(image.Id, { force: true }).catch(() => {});
      }
    },

    async start(spec: InstanceSpec) {
      const net = await network(spec.app);
      return supervisor.serial(spec.id, async () => {
        // A container left from an earlier life of this instance (given up, or stopped) makes way.
        const leftover = await inspect(spec.id);
        if (leftover?.State.Running) throw fail('START_FAILED', { reason: `instance ${spec.id} is already running` });
        supervisor.forget(spec.id);
        if (leftover) await removeContainer(spec.id, leftover);
        try {
          // <app>:<release>, unless that tag names an image that is not this berth's (never taken over).
          const tagged = await tagOwnImage(engine, { image: spec.artifact, ref: imageTag(spec.app, spec.release), ownerId });
          if (tagged.warning) log.warn('release tag not set', { app: spec.app, ref: tagged.ref, reason: tagged.warning });
          const generatedImage = fromGeneratedDockerfile((await engine.inspectImage(spec.artifact))?.Labels);
          const id = await engine.createContainer(containerName(spec.id), instanceContainer(spec, { ownerId, network: net, generatedImage }));
          await engine.startContainer(id);
          const now = await engine.inspectContainer(id);
          if (!now) throw new Error('the container vanished right after it started');
          return infoFrom(now, supervisor.started(now));
        } catch (error) {
          supervisor.forget(spec.id);
          await engine.removeContainer(containerName(spec.id), { force: true }).catch(() => {});
          if (isBerthError(error)) throw error;
          // The engine echoes a bad env entry (Go-quoted) in its error: masked before it goes anywhere.
          throw fail('START_FAILED', { reason: createMasker(spec.secrets)((error as Error).message) });
        }
      });
    },

    stop(id) {
      const pending = stops.get(id);
      if (pending) return pending;
      supervisor.hold(id);
      const stopping = supervisor
        .serial(id, async () => {
          const info = await inspect(id);
          if (info) {
            await engine.stopContainer(info.Id, info.Config.StopTimeout ?? 10);
            await removeContainer(id, await engine.inspectContainer(info.Id));
          }
          supervisor.forget(id);
        })
        .finally(() => {
          stops.delete(id);
          supervisor.release(id);
        });
      stops.set(id, stopping);
      return stopping;
    },

    async inspect(id) {
      const info = await inspect(id);
      return info ? describe(info) : missingInstance(id);
    },

    list,

    async adopt() {
      // What a crash can leave half-done: one-off runs, and the dangling layers of an interrupted build.
      for (const c of await engine.listContainers({ all: true, filters: ownerFilter(ownerId, [`${LABEL.kind}=one-off`]) })) {
        await engine.removeContainer(c.Id, { force: true });
      }
      for (const image of await engine.listImages({ dangling: ['true'], ...ownerFilter(ownerId) })) {
        await engine.removeImage(image.Id, { force: true }).catch(() => {});
      }
      // Services `berth down` stopped come back first: the instances started again below may need them.
      await services.resume();
      const containers = await instanceContainers();
      await supervisor.adopt(containers);
      // Those adopt() found running are as they were; the others it may have acted on (or found removed).
      const now = await Promise.all(containers.map(async (c) => (c.State.Running ? c : await engine.inspectContainer(c.Id))));
      const found = now.filter((c): c is ContainerInspect => c !== undefined).map(describe);
      log.info('adopted containers', { count: found.length });
      return found;
    },

    logs(id, query) {
      return {
        async *[Symbol.asyncIterator]() {
          const info = await inspect(id);
          if (!info) {
            for (const line of selectLogLines(archive.read(id) ?? [], query)) yield line;
            return;
          }
          const mask = createMasker(secretValues(info));
          const since = query.sinceMs !== undefined ? query.sinceMs / 1000 : undefined;
          const entries = engine.containerLogs(info.Id, { ...(since !== undefined ? { since } : {}), ...(query.tail !== undefined ? { tail: query.tail } : {}), follow: query.follow === true, ...(query.signal ? { signal: query.signal } : {}) });
          try {
            for await (const entry of entries) {
              const line: LogLine = { ts: entry.ts, stream: entry.stream, line: mask(entry.line), instance: id };
              if (query.sinceMs === undefined || line.ts >= query.sinceMs) yield line;
            }
          } catch (error) {
            if (!query.signal?.aborted) throw error;
          }
        },
      };
    },

    async removeLogs(app, release) {
      archive.remove(app, release);
    },

    async holdings() {
      const mine = ownerFilter(ownerId);
      const [containers, networks, volumes, images] = await Promise.all([
        engine.listContainers({ all: true, filters: mine }),
        engine.listNetworks(mine),
        engine.listVolumes(mine),
        engine.listImages(mine),
      ]);
      const apps = new Set<string>();
      for (const labels of [...containers, ...networks, ...volumes, ...images].map((r) => r.Labels)) {
        const app = labels?.[LABEL.app];
        if (app) apps.add(app);
      }
      const artifacts = images.filter((image) => image.Labels?.[LABEL.kind] === 'image').map((image) => image.Id);
      return { apps: [...apps], artifacts };
    },

    async removeApp(app) {
      const mine = ownerFilter(ownerId, [`${LABEL.app}=${app}`]);
      for (const c of await engine.listContainers({ all: true, filters: mine })) {
        const instance = c.Labels[LABEL.kind] === 'instance' ? c.Labels[LABEL.instance] : undefined;
        if (!instance) {
          await engine.removeContainer(c.Id, { force: true, volumes: true });
          continue;
        }
        supervisor.hold(instance);
        try {
          await supervisor.serial(instance, async () => {
            await engine.removeContainer(c.Id, { force: true, volumes: true });
            supervisor.forget(instance);
          });
        } finally {
          supervisor.release(instance);
        }
      }
      for (const n of await engine.listNetworks(mine)) await engine.removeNetwork(n.Id);
      networks.delete(app);
      for (const v of await engine.listVolumes(mine)) await engine.removeVolume(v.Name);
      for (const image of await engine.listImages(mine)) await engine.removeImage(image.Id, { force: true }).catch(() => {});
      archive.remove(app);
    },

    async runOnce(spec: OneOffSpec): Promise<OneOffResult> {
      const net = await network(spec.app);
      const name = containerName(spec.id);
      const mask = createMasker(spec.secrets);
      const timeout = AbortSignal.timeout(spec.timeoutMs);
      const signal = AbortSignal.any([spec.signal, timeout]);
      try {
        const generatedImage = fromGeneratedDockerfile((await engine.inspectImage(spec.artifact))?.Labels);
        const id = await engine.createContainer(name, oneOffContainer(spec, { ownerId, network: net, generatedImage }));
        await engine.startContainer(id);
        const following = (async () => {
          for await (const entry of engine.containerLogs(id, { follow: true, signal })) spec.onLine({ stream: entry.stream, line: mask(entry.line) });
        })().catch(() => {});
        try {
          const exitCode = await engine.waitContainer(id, signal);
          await following;
          return { exitCode, timedOut: false };
        } catch (error) {
          if (!timeout.aborted || spec.signal.aborted) throw error;
          await engine.killContainer(id).catch(() => {});
          return { exitCode: null, timedOut: true };
        }
      } finally {
        await engine.removeContainer(name, { force: true }).catch(() => {});
      }
    },

    async checkHealth(id: string, check: HealthCheck): Promise<HealthResult> {
      const info = await inspect(id);
      if (!info?.State.Running) return { ok: false, detail: `instance ${id} is not running` };
      if (check.heartbeat) {
        const file = check.heartbeat.file.replace(/'/g, "'\\''");
        // Age in seconds from the container's own clock; date -r is in busybox and GNU date alike.
        const { exitCode, output } = await engine
          .exec(info.Id, ['sh', '-c', `[ -f '${file}' ] && echo $(( $(date +%s) - $(date -r '${file}' +%s) ))`], { timeoutMs: check.timeoutMs })
          .catch((error: Error) => ({ exitCode: -1, output: error.message }));
        if (exitCode === -1) return { ok: false, detail: `checking the heartbeat failed: ${output}` };
        if (exitCode !== 0) return { ok: false, detail: `heartbeat ${check.heartbeat.file} does not exist yet` };
        const ageMs = Number(output.trim()) * 1000;
        return ageMs <= check.heartbeat.maxAgeMs
          ? { ok: true, detail: `heartbeat ${Math.round(ageMs / 1000)} s old` }
          : { ok: false, detail: `heartbeat is ${Math.round(ageMs / 1000)} s old (limit ${Math.round(check.heartbeat.maxAgeMs / 1000)} s)` };
      }
      if (!check.command) return { ok: false, detail: 'no heartbeat or command to check' };
      const { exitCode } = await engine.exec(info.Id, ['sh', '-c', check.command], { timeoutMs: check.timeoutMs }).catch((error: Error) => ({ exitCode: -1, output: error.message }));
      return exitCode === 0 ? { ok: true, detail: `\`${check.command}\` exited 0` } : { ok: false, detail: `\`${check.command}\` exited with code ${exitCode}` };
    },

    restart: (id) => supervisor.restart(id),

    subscribe: listeners.subscribe,

    async close() {
      lifetime.abort();
      await supervisor.close();
      listeners.clear();
    },
  };
}

