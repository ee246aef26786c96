/**
 * The runtime port: how berth builds an app and runs its instances. One interface, several engines
 * (process, docker, fake), all held to one contract suite (./driver-contract.test-support.ts).
 *
 * The driver owns *actual* state (what runs, with which pid or container) and persists what it needs to
 * find its instances again after a daemon restart. The store owns *desired* state (which release should
 * serve). Supervision (restart with back-off, crash-loop detection) is the driver's job, and every
 * driver applies the same pure policy (./restart-policy.ts): the process driver to its child processes,
 * the docker driver to container `die` events (the engine's own restart policy is off).
 */
import type { InstanceRunState } from '../model/states.ts';

export interface BuildRequest {
  app: string;
  buildId: string;
  /** The received source tree. The driver may move it; berth does not use it after build() returns. */
  sourceDir: string;
  /** Shell command from the manifest's `build:`; when absent the driver infers one (package.json scripts). */
  command?: string;
  /** Build-time environment (never the app's secrets). */
  env?: Record<string, string>;
  /** The app is a static site served from this folder (container runtimes bundle the static server). */
  staticRoot?: string;
  /** A Dockerfile path inside the source, when the manifest names one (container runtimes). */
  dockerfile?: string;
  /** The commit the source was at, when known: container runtimes tag the image with it. */
  gitSha?: string;
  signal: AbortSignal;
  /** Receives each line of build output as it happens. */
  log: (line: string) => void;
  /** Progress of the base images a container runtime pulls before it builds (see ImageRuntime). */
  onPull?: (progress: PullProgress) => void;
}

export interface BuildResult {
  /** What instances are started from: a directory for the process driver, an image reference for docker. */
  artifact: string;
  /** The start command the build found (package.json "start"), used when the manifest names none. */
  inferredCommand?: string;
}

export interface RestartPolicy {
  /** Restarts allowed inside `windowMs` before the instance is declared crash-looping and left stopped. */
  maxRestarts: number;
  windowMs: number;
  /** First back-off delay; doubles after each crash up to maxBackoffMs. */
  backoffMs: number;
  maxBackoffMs: number;
}

export interface InstanceSpec {
  /** Unique instance id, chosen by the caller (stored before start, so a crash can never lose it). */
  id: string;
  app: string;
  release: string;
  /** Process name from the manifest: `web`, `worker`, ... */
  process: string;
  artifact: string;
  /** Shell command line to run inside the artifact. */
  command: string;
  /** The app's environment. The driver adds PORT (when `port`), and BERTH_APP/BERTH_RELEASE/BERTH_PROCESS. */
  env: Record<string, string>;
  /** True when the process serves HTTP and needs a PORT. */
  port: boolean;
  /** The port it listens on inside its container (container runtimes); the process runtime picks its own. */
  containerPort?: number;
  /** Caps the runtime enforces when it can (containers); the process runtime does not. */
  resources?: { memoryBytes?: number; cpus?: number };
  /** Serve this folder of the artifact with berth's static server instead of running `command`. */
  staticRoot?: string;
  /** A read-only root filesystem with a writable /tmp (container runtimes); the process runtime ignores it. */
  readOnlyRoot?: boolean;
  restart: RestartPolicy;
  /** SIGTERM, then SIGKILL after this long. */
  stopTimeoutMs: number;
  /** Values to mask in captured logs (the app's secret env values). */
  secrets: string[];
  /** Progress of the pull when `artifact` is an image reference not on the machine yet (container runtimes). */
  onPull?: (progress: PullProgress) => void;
}

export interface Address {
  host: string;
  port: number;
}

export type { InstanceRunState };

export interface ExitInfo {
  code: number | null;
  signal: string | null;
  at: number;
  /** Killed for exceeding its memory limit (drivers that can tell). */
  oom?: boolean;
}

export interface InstanceInfo {
  id: string;
  app: string;
  release: string;
  process: string;
  state: InstanceRunState;
  address: Address | null;
  /** Host pid (process driver) for diagnostics. */
  pid?: number;
  restarts: number;
  lastExit?: ExitInfo;
  /** Free-form driver facts such as the container id. */
  detail?: Record<string, string>;
}

/** One instance's use of the machine at one moment (metrics: CPU as a counter, memory as a gauge). */
export interface InstanceUsage {
  id: string;
  /** CPU time used since the instance started, user + system, seconds (a counter: it only grows while it runs). */
  cpuSeconds: number;
  /** Memory in use now, bytes (container: the cgroup's usage less its inactive file cache; process: the group's RSS). */
  memoryBytes: number;
  /** The memory limit, bytes; null when none is set. */
  memoryLimitBytes: number | null;
}

export type DriverEvent =
  | { type: 'exited'; id: string; exit: ExitInfo; willRestart: boolean; restarts: number }
  | { type: 'restarted'; id: string; address: Address | null; restarts: number }
  | { type: 'crashloop'; id: string; restarts: number; exit: ExitInfo };

/** A command run once in a fresh instance of a release: the release command, `berth run`. */
export interface OneOffSpec {
  /** Unique id of this run. */
  id: string;
  app: string;
  release: string;
  artifact: string;
  command: string;
  env: Record<string, string>;
  /** Values masked in the output. */
  secrets: string[];
  timeoutMs: number;
  signal: AbortSignal;
  onLine: (line: { stream: 'stdout' | 'stderr'; line: string }) => void;
  /** Progress of the pull when `artifact` is an image reference not on the machine yet (container runtimes). */
  onPull?: (progress: PullProgress) => void;
}

export interface OneOffResult {
  /** null when it was killed (timeout, abort). */
  exitCode: number | null;
  timedOut: boolean;
}

/**
 * How a process without an HTTP port shows it is alive: it touches a file (relative paths are relative
 * to the app's directory) at least every `maxAgeMs`, or a command run next to it exits 0.
 */
export interface HealthCheck {
  heartbeat?: { file: string; maxAgeMs: number };
  command?: string;
  timeoutMs: number;
}

export interface HealthResult {
  ok: boolean;
  detail: string;
}

/** An accessory (Redis, Postgres, any image) as the runtime runs it: long-lived, on the app's private network. */
export interface AccessorySpec {
  app: string;
  name: string;
  image: string;
  command?: string;
  env: Record<string, string>;
  /** Volume name -> absolute path inside the container. */
  volumes: Record<string, string>;
  health?: { command: string; intervalMs: number; timeoutMs: number; retries: number; startPeriodMs: number };
  /** Progress of the pull when `image` is not on the machine yet; not part of the spec (a change of it recreates nothing). */
  onPull?: (progress: PullProgress) => void;
}

export type AccessoryState = 'healthy' | 'starting' | 'unhealthy' | 'running' | 'exited' | 'missing';

/** Accessories, for runtimes that can run images. */
export interface AccessoryRuntime {
  /** Creates the accessory, or recreates it when its spec changed, and starts it. */
  ensure(spec: AccessorySpec): Promise<{ changed: boolean }>;
  state(app: string, name: string): Promise<AccessoryState>;
  list(app: string): Promise<{ name: string; state: AccessoryState }[]>;
  /** Removes the container; its volumes stay (data outlives the container). */
  remove(app: string, name: string): Promise<void>;
  /** Stops every app's accessories (`berth down`); containers and volumes stay, and the next adopt() starts them again. */
  stopAll(): Promise<void>;
}

/**
 * How far the pull of an image has come, for a person to watch (`pulling redis:7  43/120 MB`). Reported a
 * few times a second at most, and once more with `done` when the image is in place.
 */
export interface PullProgress {
  /** The image as asked for: `redis:7`, `ghcr.io/acme/app@sha256:...`. */
  ref: string;
  /** Bytes downloaded so far, of `totalBytes`: the compressed sizes of the layers the registry has announced yet. */
  doneBytes: number;
  totalBytes: number;
  /** The image's layers, and how many are in place (pulled, or already on this machine). */
  layers: number;
  layersDone: number;
  done: boolean;
}

export interface EnsureImageOptions {
  onPull?: (progress: PullProgress) => void;
  signal?: AbortSignal;
}

/**
 * Images a container runtime runs without having built them (services, image apps, one-off runs of them).
 * Every container the runtime creates from such an image calls ensure() first; callers that want a pull
 * to fail a deploy before anything changes call it themselves, up front.
 */
export interface ImageRuntime {
  /**
   * Nothing when `ref` is on the machine; else pulls it (with the registry credentials the runtime was
   * given for its registry), bounded in time. Rejects with IMAGE_NOT_FOUND, REGISTRY_AUTH_FAILED,
   * REGISTRY_UNREACHABLE, PULL_TIMEOUT, DISK_FULL, IMAGE_REFERENCE_INVALID or PULL_FAILED, leaving nothing
   * behind. `repoDigests` are the engine's `name@sha256:...` for the image (empty for a local-only image).
   */
  ensure(ref: string, options?: EnsureImageOptions): Promise<{ pulled: boolean; id: string; repoDigests: string[] }>;
  /**
   * Frees an image berth pulled and no longer needs (an image app's old digest): removed unless a
   * container still uses it or it is gone already; never forced, so nothing running loses its image.
   */
  release(ref: string): Promise<void>;
  /** The image `ref` names on this machine, without pulling; undefined when there is none. */
  present(ref: string): Promise<{ id: string; repoDigests: string[] } | undefined>;
}

export interface LogLine {
  /** Epoch milliseconds when berth saw the line. */
  ts: number;
  stream: 'stdout' | 'stderr';
  line: string;
  instance: string;
}

/** What a retention sweep deleted: whole files, and lines (in them or cut from the start of others). */
export interface LogPruneResult {
  files: number;
  lines: number;
}

export interface LogQuery {
  sinceMs?: number;
  tail?: number;
  follow?: boolean;
  signal?: AbortSignal;
}

export interface RuntimeDriver {
  readonly name: string;
  /** Present when the runtime can run accessories (services); the process runtime cannot. */
  readonly services?: AccessoryRuntime;
  /** Present when the runtime runs images it pulls (container runtimes). */
  readonly images?: ImageRuntime;

  build(request: BuildRequest): Promise<BuildResult>;
  /** Frees what build() made. Idempotent. */
  removeArtifact(artifact: string): Promise<void>;

  /** Starts an instance and resolves once it is spawned (not yet healthy). Throws if it cannot start. */
  start(spec: InstanceSpec): Promise<InstanceInfo>;
  /** SIGTERM, SIGKILL after the spec's stop timeout; forgets the instance. Idempotent, also for unknown ids. */
  stop(id: string): Promise<void>;
  inspect(id: string): Promise<InstanceInfo>;
  /** Everything this driver owns and can find, including instances it was not told about (orphans). */
  list(): Promise<InstanceInfo[]>;

  /**
   * After a daemon restart: find what survived, resume supervising it, remove what a crash left half-done
   * (interrupted builds and their processes). Returns every instance found.
   */
  adopt(): Promise<InstanceInfo[]>;

  /** Captured output of one instance, oldest first; with `follow`, keeps yielding until the signal aborts. */
  logs(id: string, query: LogQuery): AsyncIterable<LogLine>;

  /**
   * Retention by age: deletes the captured log lines berth keeps (stores, archives) written before
   * `olderThan` (epoch ms), whole files where nothing newer is in them. Live output a container engine
   * keeps itself is bounded by the engine's own size limits instead. Safe while instances run.
   */
  pruneLogs(olderThan: number): Promise<LogPruneResult>;

  /** Deletes captured logs of one release of an app once berth no longer needs them. Idempotent. */
  removeLogs(app: string, release: string): Promise<void>;
  /** Removes everything the driver still holds for a destroyed app (logs, networks, volumes, images). Idempotent. */
  removeApp(app: string): Promise<void>;
  /**
   * What the driver holds, for recovery to compare with the store: every app it has anything for
   * (instances, logs, networks, volumes, images) and every artifact build() made that still exists. A
   * crash in the middle of a destroy, or between a build and its row, leaves some the store no longer knows.
   */
  holdings(): Promise<{ apps: string[]; artifacts: string[] }>;

  /** Runs a one-off command from an artifact (release command, `berth run`) and waits for it, bounded by its timeout. */
  runOnce(spec: OneOffSpec): Promise<OneOffResult>;
  /** Checks a running instance with a heartbeat file or a command. */
  checkHealth(id: string, check: HealthCheck): Promise<HealthResult>;
  /**
   * Ends a running instance's process (SIGTERM, SIGKILL after the spec's stop timeout) and lets
   * supervision bring it back, counted like a crash by the restart policy (back-off, then crash loop),
   * with the usual exited and restarted events. For an instance that stopped passing its health check.
   * Resolves once the process has ended; a no-op for an instance that is not running.
   */
  restart(id: string): Promise<void>;

  /**
   * What the running instances among `ids` use now, read from the engine (docker stats, one shot) or
   * /proc (process driver: the instance's whole process group). An id that is not running, or unknown,
   * is left out; never throws for one instance: an instance that cannot be read is left out too.
   */
  usage(ids: readonly string[]): Promise<InstanceUsage[]>;

  /** Instance lifecycle events (exits, restarts, crash loops). Returns an unsubscribe function. */
  subscribe(listener: (event: DriverEvent) => void): () => void;

  /** Stops supervising and releases resources; running instances keep running. */
  close(): Promise<void>;
}
