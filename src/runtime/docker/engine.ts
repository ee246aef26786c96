/**
 * The slice of the Docker Engine API berth uses, as a port. `./engine-http.ts` implements it over the
 * engine's Unix socket with node:http (no docker CLI, no shell strings); the docker driver only talks
 * to this interface. Field names follow the Engine API (v1.41+) so its documentation applies as-is.
 */
import type { Readable } from 'node:stream';
import type { PullOptions, PullResult } from './engine-pull.ts';

export type { PullOptions, PullResult };

export interface EngineVersion {
  Version: string;
  ApiVersion: string;
  Os: string;
  Arch: string;
  KernelVersion: string;
}

export type Labels = Record<string, string>;
/** Engine list filters, such as { label: ['berth.owner=own_x'], dangling: ['true'] }. */
export type Filters = Record<string, string[]>;

export interface BuildOptions {
  /** Tags to apply, `name:tag`. */
  tags: string[];
  labels: Labels;
  /** Path of the Dockerfile inside the context (default `Dockerfile`). */
  dockerfile?: string;
  buildArgs?: Record<string, string>;
  /** Caps for the build's containers (legacy builder): bytes, and CPU quota over a 100 ms period. */
  memoryBytes?: number;
  cpuQuota?: number;
  cpuPeriod?: number;
  signal?: AbortSignal;
}

export interface BuildResult {
  imageId: string;
}

export interface ContainerCreate {
  Image: string;
  Cmd?: string[];
  Entrypoint?: string[];
  Env?: string[];
  Labels?: Labels;
  User?: string;
  WorkingDir?: string;
  ExposedPorts?: Record<string, Record<string, never>>;
  Healthcheck?: { Test: string[]; Interval?: number; Timeout?: number; Retries?: number; StartPeriod?: number };
  StopTimeout?: number;
  HostConfig?: {
    NetworkMode?: string;
    RestartPolicy?: { Name: 'no' | 'on-failure' | 'always' | 'unless-stopped'; MaximumRetryCount?: number };
    Memory?: number;
    MemorySwap?: number;
    NanoCpus?: number;
    Binds?: string[];
    Mounts?: { Type: 'volume' | 'bind' | 'tmpfs'; Source?: string; Target: string; ReadOnly?: boolean }[];
    Init?: boolean;
    LogConfig?: { Type: string; Config?: Record<string, string> };
    AutoRemove?: boolean;
    /** Such as `no-new-privileges:true`. */
    SecurityOpt?: string[];
    /** Capabilities taken away from the engine's default set; `ALL` for every one. */
    CapDrop?: string[];
    ReadonlyRootfs?: boolean;
    /** Mount point -> tmpfs options (`rw,size=64m`). */
    Tmpfs?: Record<string, string>;
  };
  NetworkingConfig?: { EndpointsConfig: Record<string, { Aliases?: string[] }> };
}

export interface ContainerSummary {
  Id: string;
  Names: string[];
  Image: string;
  Labels: Labels;
  State: string;
  Status: string;
}

export interface ContainerInspect {
  Id: string;
  Name: string;
  Config: { Labels: Labels; Image: string; Env: string[]; StopTimeout?: number };
  RestartCount: number;
  State: {
    Status: 'created' | 'running' | 'paused' | 'restarting' | 'removing' | 'exited' | 'dead';
    Running: boolean;
    Restarting: boolean;
    OOMKilled: boolean;
    Pid: number;
    ExitCode: number;
    StartedAt: string;
    FinishedAt: string;
    Health?: { Status: 'starting' | 'healthy' | 'unhealthy' };
  };
  NetworkSettings: { Networks: Record<string, { IPAddress: string; Aliases?: string[] | null }> };
  HostConfig?: { Memory?: number; SecurityOpt?: string[] | null; CapDrop?: string[] | null; ReadonlyRootfs?: boolean; Tmpfs?: Record<string, string> | null };
}

export interface ImageSummary {
  Id: string;
  RepoTags: string[] | null;
  /** `name@sha256:...` for each repository the image was pulled from or pushed to. */
  RepoDigests?: string[] | null;
  Labels: Labels | null;
  Created: number;
  Size: number;
}

export interface NetworkSummary {
  Id: string;
  Name: string;
  Labels: Labels;
}

export interface VolumeSummary {
  Name: string;
  Labels: Labels | null;
}

export interface LogEntry {
  stream: 'stdout' | 'stderr';
  /** Engine timestamp (epoch ms) when asked with timestamps. */
  ts: number;
  line: string;
}

/**
 * The part of GET /containers/{id}/stats berth reads (one shot, no stream). `memory_stats.stats` holds the
 * cgroup's counters: v2 names them `inactive_file`, v1 `total_inactive_file` and `cache`. A container that
 * is not running answers with empty stats.
 */
export interface ContainerStats {
  cpu_stats?: { cpu_usage?: { total_usage?: number } };
  memory_stats?: { usage?: number; limit?: number; stats?: Record<string, number> };
}

export interface EngineEvent {
  Type: string;
  Action: string;
  Actor: { ID: string; Attributes: Record<string, string> };
  time: number;
  timeNano: number;
}

export interface DockerEngine {
  ping(): Promise<boolean>;
  version(): Promise<EngineVersion>;
  /** The Engine API version berth speaks with this engine (`1.47`): negotiated on the first call, then kept. */
  apiVersion(): Promise<string>;

  /** Builds from a tar stream of the context; `onLine` gets each line of build output; rejects with the build error. */
  buildImage(context: Readable, options: BuildOptions, onLine: (line: string) => void): Promise<BuildResult>;
  inspectImage(ref: string): Promise<ImageSummary | undefined>;
  /**
   * Pulls `ref` from its registry (POST /images/create), with progress, bounded by a total and an idle
   * timeout. Rejects with a catalogue error (IMAGE_NOT_FOUND, REGISTRY_AUTH_FAILED, REGISTRY_UNREACHABLE,
   * REGISTRY_ERROR, PULL_TIMEOUT, DISK_FULL, IMAGE_REFERENCE_INVALID, PULL_FAILED), with the signal's reason
   * when it aborts, or with an EngineError when the engine itself does not answer. A failed pull leaves no image.
   */
  pullImage(ref: string, options: PullOptions): Promise<PullResult>;
  listImages(filters?: Filters): Promise<ImageSummary[]>;
  /** Idempotent: a missing image is not an error. */
  removeImage(ref: string, options?: { force?: boolean }): Promise<void>;
  /** Adds `repo:tag` to an image. */
  tagImage(ref: string, repo: string, tag: string): Promise<void>;

  createContainer(name: string, body: ContainerCreate): Promise<string>;
  startContainer(id: string): Promise<void>;
  /** SIGTERM, then SIGKILL after `timeoutSeconds`; a stopped or missing container is not an error. */
  stopContainer(id: string, timeoutSeconds: number): Promise<void>;
  killContainer(id: string, signal?: string): Promise<void>;
  /** Idempotent; `volumes` also removes anonymous volumes. */
  removeContainer(id: string, options?: { force?: boolean; volumes?: boolean }): Promise<void>;
  inspectContainer(id: string): Promise<ContainerInspect | undefined>;
  listContainers(options: { all?: boolean; filters?: Filters }): Promise<ContainerSummary[]>;
  /** One sample of a container's CPU and memory counters (stats, one-shot); undefined when there is no such container. */
  containerStats(id: string, options?: { timeoutMs?: number }): Promise<ContainerStats | undefined>;
  /** Resolves with the exit code once the container stops. */
  waitContainer(id: string, signal?: AbortSignal): Promise<number>;
  /** Demultiplexed log lines; with `follow`, keeps yielding until the signal aborts or the container ends. */
  containerLogs(id: string, options: { since?: number; tail?: number; follow?: boolean; signal?: AbortSignal }): AsyncIterable<LogEntry>;
  /**
   * Runs a command in a running container; resolves with its exit code and output (health checks). It runs
   * as the container's user unless `user` (`0`, `1000:1000`) says otherwise, and never with more
   * capabilities than the container has.
   */
  exec(id: string, cmd: string[], options?: { timeoutMs?: number; user?: string }): Promise<{ exitCode: number; output: string }>;

  createNetwork(name: string, labels: Labels, options?: { internal?: boolean }): Promise<string>;
  removeNetwork(idOrName: string): Promise<void>;
  listNetworks(filters?: Filters): Promise<NetworkSummary[]>;
  connectNetwork(network: string, container: string, aliases?: string[]): Promise<void>;
  disconnectNetwork(network: string, container: string, force?: boolean): Promise<void>;

  createVolume(name: string, labels: Labels): Promise<void>;
  removeVolume(name: string): Promise<void>;
  listVolumes(filters?: Filters): Promise<VolumeSummary[]>;

  /**
   * The engine's event stream, filtered; ends when the signal aborts. `sinceNano` (engine time, ns) replays
   * what the engine still holds from then on, so a reconnecting watcher misses nothing; default: from now.
   * Events come in the order the engine published them, which is not always the order of their times.
   */
  events(options: { filters?: Filters; signal: AbortSignal; sinceNano?: number }): AsyncIterable<EngineEvent>;
}
