/**
 * The DockerEngine port (./engine.ts) over the Engine API on the engine's Unix socket. Calls were written
 * against API v1.41; the version spoken is negotiated with each engine (./engine-version.ts), 1.41 to 1.47.
 *
 * Why not dockerode: v5 brings grpc, protobufjs and ssh2 into the daemon's memory for features berth does
 * not use (BuildKit sessions, SSH transport). What berth needs is ~30 plain HTTP calls, written here on
 * node:http with `socketPath`, plus two small stream parsers (./engine-streams.ts).
 *
 * Endpoints (all under /v<negotiated>, except the unversioned /_ping and the /version that negotiates):
 *   GET  /_ping, /version                               ping, version
 *   POST /build                                          buildImage: tar body, JSON message stream (./engine-build.ts)
 *   POST /images/create?fromImage=&tag=                  pullImage: JSON progress stream (./engine-pull.ts)
 *   GET  /images/{ref}/json, /images/json                inspectImage (404 -> undefined), listImages
 *   DELETE /images/{ref}                                 removeImage (404 is fine)
 *   POST /images/{ref}/tag?repo=&tag=                    tagImage
 *   POST /containers/create?name=, /containers/{id}/start|stop?t=|kill?signal=|wait
 *   DELETE /containers/{id}?force=&v=                    (404 is fine)
 *   GET  /containers/{id}/json, /containers/json         inspectContainer (404 -> undefined), listContainers
 *   GET  /containers/{id}/logs                           containerLogs: multiplexed frames (./engine-logs.ts)
 *   GET  /containers/{id}/stats?stream=false&one-shot=true   containerStats (404 -> undefined)
 *   POST /containers/{id}/exec, /exec/{id}/start; GET /exec/{id}/json   exec
 *   POST /networks/create, /networks/{id}/connect|disconnect; DELETE /networks/{id}; GET /networks
 *   POST /volumes/create; DELETE /volumes/{name}; GET /volumes
 *   GET  /events?since=&filters=                         events: newline-delimited JSON
 *
 * Request/response calls share one keep-alive agent per engine; streams (build, logs, wait, events, exec
 * start) each get a connection of their own. Engine answers of 300 and up become an EngineError with the
 * engine's message; "not there" (404, and 304 for stop/start) is success wherever the port promises
 * idempotency. Times the caller gives (`since` of containerLogs) are Unix seconds, as in the Engine API.
 */
import type {
  BuildOptions,
  ContainerCreate,
  ContainerInspect,
  ContainerStats,
  ContainerSummary,
  DockerEngine,
  EngineEvent,
  EngineVersion,
  Filters,
  ImageSummary,
  Labels,
  NetworkSummary,
  VolumeSummary,
} from './engine.ts';
import { buildImage } from './engine-build.ts';
import { containerLogs, exec } from './engine-logs.ts';
import { pullImage } from './engine-pull.ts';
import { engineTime, jsonObjects } from './engine-streams.ts';
import { createTransport, EngineError, segment, type EngineTransport } from './engine-transport.ts';
import { compareApiVersions } from './engine-version.ts';

export { EngineError, EngineTooOldError } from './engine-transport.ts';

export interface DockerEngineOptions {
  /** Default: the path of a `unix://` DOCKER_HOST, else /var/run/docker.sock. */
  socketPath?: string;
  /** Bound on each request/response call (stop adds its grace period). Streams are bounded by their signal. */
  timeoutMs?: number;
}

const DEFAULT_SOCKET = '/var/run/docker.sock';

export function defaultSocketPath(env: NodeJS.ProcessEnv = process.env): string {
  const host = env.DOCKER_HOST;
  return host?.startsWith('unix://') ? host.slice('unix://'.length) : DEFAULT_SOCKET;
}

export function createDockerEngine(options: DockerEngineOptions = {}): DockerEngine {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const transport = createTransport({ socketPath: options.socketPath ?? defaultSocketPath(), timeoutMs });
  const { call } = transport;
  const filters = (value?: Filters) => (value && Object.keys(value).length > 0 ? JSON.stringify(value) : undefined);

  const inspectImage = async (ref: string): Promise<ImageSummary | undefined> => {
    const res = await call<ImageInspect>('GET', `/images/${segment(ref)}/json`, { accept: [404] });
    if (res.status === 404) return undefined;
    const image = res.body;
    return {
      Id: image.Id,
      RepoTags: image.RepoTags ?? [],
      RepoDigests: image.RepoDigests ?? [],
      Labels: image.Config?.Labels ?? null,
      // The list call says seconds since the epoch; inspect says RFC 3339. Keep the list's shape.
      // From API 1.44 an image whose config has no creation time has no Created: 0, as the list says.
      Created: image.Created ? Math.floor(Date.parse(image.Created) / 1000) : 0,
      Size: image.Size,
    };
  };

  return {
    async ping() {
      try {
        // Unversioned: whether an engine answers at all, even one too old to negotiate with.
        const res = await call<string>('GET', '/_ping', { timeoutMs: Math.min(timeoutMs, 5_000), unversioned: true });
        return res.body === 'OK';
      } catch {
        return false;
      }
    },
    async version() {
      return (await call<EngineVersion>('GET', '/version')).body;
    },
    apiVersion: () => transport.apiVersion(),

    buildImage: (context, buildOptions: BuildOptions, onLine) => buildImage(transport, inspectImage, context, buildOptions, onLine),
    inspectImage,
    pullImage: (ref, pullOptions) => pullImage(transport, ref, pullOptions),
    async listImages(imageFilters) {
      return (await call<ImageSummary[]>('GET', '/images/json', { query: { filters: filters(imageFilters) } })).body;
    },
    async removeImage(ref, removeOptions = {}) {
      await call('DELETE', `/images/${segment(ref)}`, { query: { force: removeOptions.force ?? false }, accept: [404] });
    },

    async tagImage(ref, repo, tag) {
      await call('POST', `/images/${segment(ref)}/tag`, { query: { repo, tag } });
    },

    async createContainer(name: string, body: ContainerCreate) {
      return (await call<{ Id: string }>('POST', '/containers/create', { query: { name }, body })).body.Id;
    },
    async startContainer(id) {
      await call('POST', `/containers/${segment(id)}/start`, { accept: [304] });
    },
    async stopContainer(id, timeoutSeconds) {
      const seconds = Math.max(0, Math.ceil(timeoutSeconds));
      await call('POST', `/containers/${segment(id)}/stop`, { query: { t: seconds }, accept: [304, 404], timeoutMs: seconds * 1000 + timeoutMs });
    },
    async killContainer(id, signal) {
      await call('POST', `/containers/${segment(id)}/kill`, { query: { signal } });
    },
    async removeContainer(id, removeOptions = {}) {
      try {
        await call('DELETE', `/containers/${segment(id)}`, { query: { force: removeOptions.force ?? false, v: removeOptions.volumes ?? false }, accept: [404] });
      } catch (error) {
        // Someone else (AutoRemove, a concurrent remove) is already removing it: the outcome is the one asked for.
        if (error instanceof EngineError && error.status === 409 && /already in progress/i.test(error.message)) return;
        throw error;
      }
    },
    async inspectContainer(id) {
      const res = await call<ContainerInspect>('GET', `/containers/${segment(id)}/json`, { accept: [404] });
      return res.status === 404 ? undefined : res.body;
    },
    async listContainers(listOptions) {
      const query = { all: listOptions.all ?? false, filters: filters(listOptions.filters) };
      return (await call<ContainerSummary[]>('GET', '/containers/json', { query })).body;
    },
    async containerStats(id, statsOptions = {}) {
      // one-shot (API 1.41+): the engine answers at once instead of waiting a second for a second sample.
      const query = { stream: false, 'one-shot': true };
      const res = await call<ContainerStats>('GET', `/containers/${segment(id)}/stats`, { query, accept: [404], ...(statsOptions.timeoutMs ? { timeoutMs: statsOptions.timeoutMs } : {}) });
      return res.status === 404 || typeof res.body !== 'object' || res.body === null ? undefined : res.body;
    },
    async waitContainer(id, signal) {
      // Its own connection: the engine answers only when the container stops, which may take days.
      const res = await transport.open('POST', `/containers/${segment(id)}/wait`, { signal });
      try {
        for await (const answer of jsonObjects(res)) {
          const error = (answer.Error as { Message?: string } | null | undefined)?.Message;
          if (error) throw new EngineError(500, error);
          return answer.StatusCode as number;
        }
      } catch (error) {
        throw signal?.aborted ? signal.reason : error;
      } finally {
        res.destroy();
      }
      throw signal?.aborted ? signal.reason : new EngineError(0, `wait for ${id}: the engine closed the connection without an exit code`);
    },
    containerLogs: (id, logOptions) => containerLogs(transport, id, logOptions),
    exec: (id, cmd, execOptions = {}) => exec(transport, id, cmd, execOptions.timeoutMs ?? timeoutMs, execOptions.user),

    async createNetwork(name: string, labels: Labels, networkOptions = {}) {
      // From API 1.44 a duplicate name always fails and CheckDuplicate is deprecated: sent only below, as docker's own client does.
      const checkDuplicate = compareApiVersions(await transport.apiVersion(), '1.44') < 0 ? { CheckDuplicate: true } : {};
      const body = { Name: name, Driver: 'bridge', Labels: labels, Internal: networkOptions.internal ?? false, ...checkDuplicate };
      return (await call<{ Id: string }>('POST', '/networks/create', { body })).body.Id;
    },
    async removeNetwork(idOrName) {
      await call('DELETE', `/networks/${segment(idOrName)}`, { accept: [404] });
    },
    async listNetworks(networkFilters) {
      return (await call<NetworkSummary[]>('GET', '/networks', { query: { filters: filters(networkFilters) } })).body;
    },
    async connectNetwork(network, container, aliases) {
      const body = { Container: container, EndpointConfig: aliases && aliases.length > 0 ? { Aliases: aliases } : {} };
      await call('POST', `/networks/${segment(network)}/connect`, { body });
    },
    async disconnectNetwork(network, container, force) {
      await call('POST', `/networks/${segment(network)}/disconnect`, { body: { Container: container, Force: force ?? false } });
    },

    async createVolume(name: string, labels: Labels) {
      await call('POST', '/volumes/create', { body: { Name: name, Labels: labels } });
    },
    async removeVolume(name) {
      await call('DELETE', `/volumes/${segment(name)}`, { accept: [404] });
    },
    async listVolumes(volumeFilters) {
      const res = await call<{ Volumes: VolumeSummary[] | null }>('GET', '/volumes', { query: { filters: filters(volumeFilters) } });
      return res.body.Volumes ?? [];
    },

    events(eventOptions) {
      // `since` = now, taken at the call: events between this call and the stream's first byte are replayed
      // from the engine's buffer, so a caller that subscribes and then acts misses nothing.
      const since =
        eventOptions.sinceNano !== undefined
          ? `${Math.floor(eventOptions.sinceNano / 1e9)}.${String(eventOptions.sinceNano % 1e9).padStart(9, '0')}`
          : engineTime(Date.now());
      return eventStream(transport, since, filters(eventOptions.filters), eventOptions.signal);
    },
  };
}

async function* eventStream(transport: EngineTransport, since: string, filters: string | undefined, signal: AbortSignal): AsyncGenerator<EngineEvent> {
  if (signal.aborted) return;
  let res;
  try {
    res = await transport.open('GET', '/events', { query: { since, filters }, signal });
  } catch (error) {
    if (signal.aborted) return;
    throw error;
  }
  try {
    for await (const event of jsonObjects(res)) yield event as unknown as EngineEvent;
  } catch (error) {
    if (signal.aborted) return;
    throw error;
  } finally {
    res.destroy();
  }
  // Only an abort is meant to end the stream; anything else (the engine restarted) must be seen.
  if (!signal.aborted) throw new EngineError(0, 'the engine closed the event stream');
}

interface ImageInspect {
  Id: string;
  RepoTags: string[] | null;
  RepoDigests?: string[] | null;
  Created?: string;
  Size: number;
  Config: { Labels: Labels | null } | null;
}
