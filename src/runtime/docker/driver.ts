/**
 * The `docker` runtime driver: builds images and runs instances as containers through the Docker Engine
 * API (./engine.ts), on one private network per app, never publishing ports. The engine supervises
 * (restart policy with a retry limit); berth watches the engine's events to report exits, restarts,
 * crash loops and OOM kills. Everything it creates is labelled with berth's owner id; nothing else is
 * ever touched. Logs of stopped instances are archived before their container goes.
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
import type { ContainerInspect, DockerEngine, EngineEvent } from './engine.ts';
import { addressOf, infoFrom, secretValues } from './inspect-info.ts';
import { baseLabels, containerName, LABEL, networkName, ownerFilter } from './names.ts';
import { createServiceRuntime } from './services.ts';

export interface DockerDriverOptions {
  engine: DockerEngine;
  ownerId: string;
  /** Where logs of stopped instances are kept (DATA/runtime/docker). */
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
  /** Instances berth is stopping itself: their events are not news. */
  const stopping = new Set<string>();
  const ooms = new Set<string>();
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

  const onEvent = async (event: EngineEvent) => {
    const id = event.Actor.Attributes[LABEL.instance];
    if (!id) return;
    if (event.Action === 'oom') {
      ooms.add(id);
      return;
    }
    if (event.Action === 'start') {
      if (stopping.has(id)) return;
      // berth only ever starts fresh containers (RestartCount 0): a start with restarts behind it is the engine's.
      const now = await inspect(id);
      if (now && now.RestartCount > 0) listeners.emit({ type: 'restarted', id, address: addressOf(now), restarts: now.RestartCount });
      return;
    }
    if (event.Action !== 'die' || stopping.has(id)) return;
    const code = Number(event.Actor.Attributes.exitCode ?? Number.NaN);
    const now = await inspect(id);
    if (!now) return;
    // The engine's OOM notice races the exit (and OOMKilled stays set after a restart), so a SIGKILL berth
    // did not send to a memory-limited container counts as out of memory too.
    const oom = ooms.delete(id) || (code === 137 && (now.State.OOMKilled || (now.HostConfig?.Memory ?? 0) > 0));
    // The engine decides on a restart before it reports the death: a scheduled restart shows as Restarting
    // (already counted in RestartCount) or, when the back-off was shorter than this inspect took, as running again.
    const willRestart = now.State.Restarting || now.State.Running;
    const exit = { code: Number.isNaN(code) ? now.State.ExitCode : code, signal: null, at: event.time * 1000, ...(oom ? { oom: true } : {}) };
    listeners.emit({ type: 'exited', id, exit, willRestart, restarts: now.RestartCount });
    if (!willRestart && exit.code !== 0) listeners.emit({ type: 'crashloop', id, restarts: now.RestartCount, exit });
  };

  const watch = async () => {
    // A reconnect resumes after the last event seen, so a die or start in the gap is not lost.
    let lastNano: number | undefined;
    while (!lifetime.signal.aborted) {
      try {
        const filters = { type: ['container'], event: ['die', 'start', 'oom'], ...ownerFilter(ownerId, [`${LABEL.kind}=instance`]) };
        for await (const event of engine.events({ filters, signal: lifetime.signal, ...(lastNano !== undefined ? { sinceNano: lastNano + 1 } : {}) })) {
          if (lastNano !== undefined && event.timeNano <= lastNano) continue;
          lastNano = event.timeNano;
          await onEvent(event).catch((error) => log.warn('engine event not handled', { action: event.Action, error: error as Error }));
        }
      } catch (error) {
        if (lifetime.signal.aborted) return;
        log.warn('lost the engine event stream; reconnecting', { error: error as Error });
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

  const list = async (): Promise<InstanceInfo[]> => {
    const containers = await engine.listContainers({ all: true, filters: ownerFilter(ownerId, [`${LABEL.kind}=instance`]) });
    const infos: InstanceInfo[] = [];
    for (const c of containers) {
      const full = await engine.inspectContainer(c.Id);
      if (full) infos.push(infoFrom(full));
    }
    return infos;
  };

  return {
    name: 'docker',
    services: createServiceRuntime({ engine, ownerId, network, log }),

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
      // A container left from an earlier life of this instance (a restart after a crash) makes way.
      const leftover = await inspect(spec.id);
      if (leftover?.State.Running) throw fail('START_FAILED', { reason: `instance ${spec.id} is already running` });
      if (leftover) await removeContainer(spec.id, leftover);
      try {
        await engine.tagImage(spec.artifact, spec.app, spec.release).catch(() => {});
        const id = await engine.createContainer(containerName(spec.id), instanceContainer(spec, { ownerId, network: net }));
        await engine.startContainer(id);
        const now = await engine.inspectContainer(id);
        if (!now) throw new Error('the container vanished right after it started');
        return infoFrom(now);
      } catch (error) {
        await engine.removeContainer(containerName(spec.id), { force: true }).catch(() => {});
        if (isBerthError(error)) throw error;
        throw fail('START_FAILED', { reason: (error as Error).message });
      }
    },

    async stop(id) {
      stopping.add(id);
      try {
        const info = await inspect(id);
        if (!info) return;
        await engine.stopContainer(info.Id, info.Config.StopTimeout ?? 10);
        await removeContainer(id, await engine.inspectContainer(info.Id));
      } finally {
        stopping.delete(id);
      }
    },

    async inspect(id) {
      const info = await inspect(id);
      return info ? infoFrom(info) : missingInstance(id);
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
      const found = await list();
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

    async removeApp(app) {
      const mine = ownerFilter(ownerId, [`${LABEL.app}=${app}`]);
      for (const c of await engine.listContainers({ all: true, filters: mine })) {
        const instance = c.Labels[LABEL.instance];
        if (instance) stopping.add(instance);
        try {
          await engine.removeContainer(c.Id, { force: true, volumes: true });
        } finally {
          if (instance) stopping.delete(instance);
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
        const id = await engine.createContainer(name, oneOffContainer(spec, { ownerId, network: net }));
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

    subscribe: listeners.subscribe,

    async close() {
      lifetime.abort();
      listeners.clear();
    },
  };
}

