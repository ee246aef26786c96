/**
 * The runtime port: how berth builds an app and runs its instances. One interface, several engines
 * (process, fake; docker and swarm later), all held to one contract suite (./driver.contract.ts).
 *
 * The driver owns *actual* state (what runs, with which pid or container) and persists what it needs to
 * find its instances again after a daemon restart. The store owns *desired* state (which release should
 * serve). Supervision (restart with back-off, crash-loop detection) is the driver's job: the process
 * driver does it itself, a container engine does it with its restart policy.
 */

export interface BuildRequest {
  app: string;
  buildId: string;
  /** The received source tree. The driver may move it; berth does not use it after build() returns. */
  sourceDir: string;
  /** Shell command from the manifest's `build:`; when absent the driver infers one (package.json scripts). */
  command?: string;
  /** Build-time environment (never the app's secrets). */
  env?: Record<string, string>;
  signal: AbortSignal;
  /** Receives each line of build output as it happens. */
  log: (line: string) => void;
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
  restart: RestartPolicy;
  /** SIGTERM, then SIGKILL after this long. */
  stopTimeoutMs: number;
  /** Values to mask in captured logs (the app's secret env values). */
  secrets: string[];
}

export interface Address {
  host: string;
  port: number;
}

export type InstanceRunState =
  | 'running' // up (healthy or not is for the health gate to say)
  | 'restarting' // crashed, waiting out its back-off
  | 'crashloop' // crashed too often; left stopped and reported
  | 'exited' // stopped and not coming back
  | 'missing'; // the driver knows nothing of it

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

export type DriverEvent =
  | { type: 'exited'; id: string; exit: ExitInfo; willRestart: boolean; restarts: number }
  | { type: 'restarted'; id: string; address: Address | null; restarts: number }
  | { type: 'crashloop'; id: string; restarts: number; exit: ExitInfo };

export interface LogLine {
  /** Epoch milliseconds when berth saw the line. */
  ts: number;
  stream: 'stdout' | 'stderr';
  line: string;
  instance: string;
}

export interface LogQuery {
  sinceMs?: number;
  tail?: number;
  follow?: boolean;
  signal?: AbortSignal;
}

export interface RuntimeDriver {
  readonly name: string;

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

  /** Deletes captured logs of an app, or of one of its releases, once berth no longer needs them. Idempotent. */
  removeLogs(app: string, release?: string): Promise<void>;

  /** Instance lifecycle events (exits, restarts, crash loops). Returns an unsubscribe function. */
  subscribe(listener: (event: DriverEvent) => void): () => void;

  /** Stops supervising and releases resources; running instances keep running. */
  close(): Promise<void>;
}
