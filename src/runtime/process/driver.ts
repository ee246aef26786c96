/**
 * The `process` runtime driver: berth's embedded default when no container engine exists. Builds are
 * directories under <root>/builds, instances are detached process groups that survive the daemon, and
 * everything needed to find them again lives in <root>/instances and in each process's environment
 * (BERTH_OWNER=<ownerId>, BERTH_INSTANCE / BERTH_BUILD). See ./layout.ts for the file layout.
 * A root daemon runs each app's builds, instances, one-off runs and check commands as a user of the
 * app's own (./app-users.ts), so no app can read berth's keys or another app's files; any other daemon
 * runs them as itself, and `berth doctor` says so (./isolation.ts).
 */
import { chmodSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fail } from '../../errors/catalogue.ts';
import { systemClock, type Clock } from '../../lib/clock.ts';
import type { Logger } from '../../lib/log.ts';
import type { BuildRequest, BuildResult, HealthCheck, HealthResult, InstanceInfo, InstanceSpec, InstanceUsage, LogLine, LogPruneResult, LogQuery, OneOffResult, OneOffSpec, RuntimeDriver } from '../driver.ts';
import { driverListeners, missingInstance, type DriverListeners } from '../listeners.ts';
import { isSafeName } from '../log-tree.ts';
import { logStream } from '../log-stream.ts';
import { AppUsers, type AppUser } from './app-users.ts';
import { buildArtifact, cleanInterruptedBuilds } from './build.ts';
import { daemonUid, isolatesApps } from './isolation.ts';
import { buildDir, findLogFiles, layoutFor, logFiles, PARTIAL_SUFFIX, type Layout, type SecretBox } from './layout.ts';
import { claimTree, removeTree } from './owned-tree.ts';
import { reachIssues } from './reachable.ts';
import { checkInstanceHealth, runOneOff } from './one-off.ts';
import { createLogCollector, type LogCollector, type LogCollectorOptions, type LogSource } from './log-collector.ts';
import { readStore } from '../log-store.ts';
import { findOwnedProcesses } from './owned.ts';
import { listStates, readState, type InstanceState } from './state-file.ts';
import { ProcessSupervisor } from './supervisor.ts';
import { orphanInfos, unsupervisedInfo } from './instance-info.ts';
import { groupsUsage } from './usage.ts';
import { pruneProcessLogs } from './prune-logs.ts';
import { isSameProcessAlive } from '../../lib/proc.ts';

export interface ProcessDriverOptions {
  /** Directory the driver owns, such as DATA/runtime/process. */
  root: string;
  /** Marks this berth's processes; must be stable across daemon restarts and unique per berth on the host. */
  ownerId: string;
  log: Logger;
  clock?: Clock;
  /** Directories prepended to PATH for builds and instances, e.g. dirname(process.execPath) so apps run on berth's Node. */
  binPath?: string[];
  /** Tuning for the log collector (tests use small sizes). */
  logs?: Pick<LogCollectorOptions, 'intervalMs' | 'maxLineLength' | 'rotateBytes' | 'truncateBytes'>;
  /** Seals env and secrets in the state files (berth's daemon passes its sealer). */
  box?: SecretBox;
  /** How often adopted instances are checked for life; default 500 ms. */
  pollMs?: number;
  /** Stop timeout for orphans (no state file, so no spec to take it from); default 10 s. */
  orphanStopTimeoutMs?: number;
  /** Run each app as a user of its own (needs root); default: when the daemon runs as root. */
  appUsers?: boolean;
}

const OWNER = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/;
/** berth's static file server, run for apps declared `static:`. */
const STATIC_SERVER = fileURLToPath(new URL('../../static/static-server.js', import.meta.url));
const shellQuote = (value: string) => `'${value.replace(/'/g, `'\\''`)}'`;

export function createProcessDriver(options: ProcessDriverOptions): RuntimeDriver {
  return new ProcessDriver(options);
}

export class ProcessDriver implements RuntimeDriver {
  readonly name = 'process';
  readonly subscribe: DriverListeners['subscribe'];
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #layout: Layout;
  readonly #ownerId: string;
  readonly #orphanStopTimeoutMs: number;
  readonly #binPath: string[];
  readonly #users: AppUsers | null;
  readonly #listeners: DriverListeners;
  readonly #activeBuilds = new Set<string>();
  readonly #stops = new Map<string, Promise<void>>();
  readonly #collector: LogCollector;
  readonly #supervisor: ProcessSupervisor;

  constructor(options: ProcessDriverOptions) {
    if (!OWNER.test(options.ownerId)) {
      throw fail('CONFIG_INVALID', { issues: [{ path: 'runtime.ownerId', message: 'use 1-128 letters, digits, and _ . : -' }] });
    }
    const clock = options.clock ?? systemClock;
    const log = options.log.child({ component: 'runtime', driver: 'process' });
    const layout = layoutFor(resolve(options.root), options.box);
    const ownerId = options.ownerId;
    const binPath = options.binPath ?? [];
    this.#clock = clock;
    this.#log = log;
    this.#layout = layout;
    this.#ownerId = ownerId;
    this.#binPath = binPath;
    this.#orphanStopTimeoutMs = options.orphanStopTimeoutMs ?? 10_000;
    this.#users = (options.appUsers ?? isolatesApps(daemonUid())) ? new AppUsers({ ownerId, homes: layout.homes, log }) : null;
    if (this.#users) openRootToAppUsers(layout, binPath);
    this.#listeners = driverListeners(log);
    this.subscribe = this.#listeners.subscribe;
    this.#collector = createLogCollector({ clock, log, ...options.logs });
    this.#supervisor = new ProcessSupervisor({
      layout,
      ownerId,
      binPath,
      userFor: (spec) => this.#userFor(spec.app, spec.artifact),
      clock,
      log,
      collector: this.#collector,
      pollMs: options.pollMs ?? 500,
      emit: (events) => this.#listeners.emit(...events),
    });
    this.#collector.start();
  }

  async build(request: BuildRequest): Promise<BuildResult> {
    if (this.#activeBuilds.has(request.buildId)) throw fail('BUILD_FAILED', { reason: `build ${request.buildId} is already running` });
    this.#activeBuilds.add(request.buildId);
    try {
      return await buildArtifact({ layout: this.#layout, ownerId: this.#ownerId, binPath: this.#binPath, log: this.#log, now: () => this.#clock.now(), userFor: (app) => this.#userFor(app) }, request);
    } finally {
      this.#activeBuilds.delete(request.buildId);
    }
  }

  async removeArtifact(artifact: string): Promise<void> {
    const path = resolve(artifact);
    if (dirname(path) !== resolve(this.#layout.builds) || path.endsWith(PARTIAL_SUFFIX)) {
      throw fail('INTERNAL', { reason: `${artifact} is not an artifact of the process driver` });
    }
    await removeTree(path);
  }

  async start(requested: InstanceSpec): Promise<InstanceInfo> {
    // A state file nobody supervises yet (adopt() not called) still means the instance exists.
    if (isSafeName(requested.id) && readState(this.#layout, requested.id)) throw fail('START_FAILED', { reason: `instance ${requested.id} already exists` });
    const spec = requested.staticRoot ? { ...requested, command: `node ${shellQuote(STATIC_SERVER)} ${shellQuote(requested.staticRoot)}` } : requested;
    if (!spec.command.trim()) throw fail('START_FAILED', { reason: 'no command to run: host processes have no image with a default command; set `processes.<name>.command` in berth.yaml' });
    return this.#supervisor.start(spec);
  }

  stop(id: string): Promise<void> {
    const pending = this.#stops.get(id);
    if (pending) return pending;
    const stopping = (async () => {
      if (!isSafeName(id)) return;
      await this.#supervisor.stop(id, readState(this.#layout, id), this.#orphanStopTimeoutMs);
    })().finally(() => this.#stops.delete(id));
    this.#stops.set(id, stopping);
    return stopping;
  }

  async inspect(id: string): Promise<InstanceInfo> {
    const known = this.#supervisor.info(id);
    if (known) return known;
    const state = isSafeName(id) && !this.#stops.has(id) ? readState(this.#layout, id) : null;
    if (state) return unsupervisedInfo(state);
    const orphan = this.#orphans().find((o) => o.id === id);
    return orphan ?? missingInstance(id);
  }

  async list(): Promise<InstanceInfo[]> {
    return this.#list();
  }

  async adopt(): Promise<InstanceInfo[]> {
    await cleanInterruptedBuilds({ layout: this.#layout, ownerId: this.#ownerId, activeBuilds: this.#activeBuilds, clock: this.#clock, log: this.#log });
    for (const state of this.#states()) {
      if (!this.#stops.has(state.spec.id)) this.#supervisor.adopt(state);
    }
    const found = this.#list();
    this.#log.info('adopted instances', { count: found.length, orphans: found.filter((i) => i.detail?.orphan).length });
    return found;
  }

  logs(id: string, query: LogQuery): AsyncIterable<LogLine> {
    return logStream({
      read: () => {
        const source = this.#sourceFor(id);
        if (source) {
          try {
            this.#collector.collect(source);
          } catch (error) {
            this.#log.warn('log collection failed', { instance: id, error: error as Error });
          }
        }
        const files = source?.files ?? findLogFiles(this.#layout, id);
        return files ? readStore(files.store, id) : [];
      },
      subscribe: (push) => this.#collector.onLines(id, push),
      query,
    });
  }

  async removeLogs(app: string, release: string): Promise<void> {
    if (!isSafeName(app) || !isSafeName(release)) return;
    rmSync(join(this.#layout.logs, app, release), { recursive: true, force: true });
  }

  async pruneLogs(olderThan: number): Promise<LogPruneResult> {
    return pruneProcessLogs(this.#layout.logs, olderThan, (id) => this.#collector.source(id) !== undefined || this.#hasState(id));
  }

  async removeApp(app: string): Promise<void> {
    if (!isSafeName(app)) return;
    rmSync(join(this.#layout.logs, app), { recursive: true, force: true });
    await this.#users?.remove(app);
  }

  async holdings(): Promise<{ apps: string[]; artifacts: string[] }> {
    const layout = this.#layout;
    const apps = new Set(this.#list().map((i) => i.app));
    for (const name of subdirectories(layout.logs)) apps.add(name);
    for (const name of this.#users?.apps() ?? []) apps.add(name);
    // A finished build is builds/<id>; <id>.partial is one a crash interrupted (adopt() removes those).
    const artifacts = subdirectories(layout.builds).filter((name) => !name.endsWith(PARTIAL_SUFFIX)).map((name) => buildDir(layout, name));
    return { apps: [...apps], artifacts };
  }

  async runOnce(spec: OneOffSpec): Promise<OneOffResult> {
    return runOneOff({ spec, ownerId: this.#ownerId, binPath: this.#binPath, user: await this.#userFor(spec.app, spec.artifact) });
  }

  async restart(id: string): Promise<void> {
    return isSafeName(id) ? this.#supervisor.restart(id) : undefined;
  }

  /** From /proc (./usage.ts); the process runtime sets no memory limit, so none is reported. */
  async usage(ids: readonly string[]): Promise<InstanceUsage[]> {
    const groups = [...new Set(ids)].flatMap((id) => {
      const state = isSafeName(id) ? readState(this.#layout, id) : null;
      const live = state?.state === 'running' && state.pid !== null && isSameProcessAlive(state.pid, state.startTime);
      return live ? [{ id, pgid: state.pid!, memoryLimitBytes: null }] : [];
    });
    return groupsUsage(groups);
  }

  async checkHealth(id: string, check: HealthCheck): Promise<HealthResult> {
    const state = isSafeName(id) ? readState(this.#layout, id) : null;
    if (!state || state.state !== 'running') return { ok: false, detail: `instance ${id} is not running` };
    return checkInstanceHealth({ spec: state.spec, port: state.port, ownerId: this.#ownerId, binPath: this.#binPath, user: await this.#userFor(state.spec.app) }, check, this.#clock.now());
  }

  async close(): Promise<void> {
    await this.#supervisor.close();
    await Promise.allSettled(this.#stops.values());
    this.#collector.stop();
    this.#listeners.clear();
  }

  /** The app's user, with `artifact` (when given) handed to it if root made it before berth ran apps as users. */
  async #userFor(app: string, artifact?: string): Promise<AppUser | null> {
    if (!this.#users) return null;
    const user = await this.#users.ensure(app);
    if (artifact) {
      try {
        claimTree(artifact, user);
      } catch (error) {
        throw fail('START_FAILED', { reason: `artifact ${artifact} cannot be used by ${user.name}: ${(error as Error).message}` }).because(error);
      }
    }
    return user;
  }

  #states(): InstanceState[] {
    return listStates(this.#layout, (file, error) => this.#log.warn('unreadable instance state', { file, error: error as Error }));
  }

  #hasState(id: string): boolean {
    return isSafeName(id) && readState(this.#layout, id) !== null;
  }

  #orphans(): InstanceInfo[] {
    return orphanInfos(findOwnedProcesses(this.#ownerId), (id) => this.#supervisor.info(id) !== undefined || this.#stops.has(id) || this.#hasState(id));
  }

  /** Supervised instances, then those only a state file knows, then orphans (found by their environment). */
  #list(): InstanceInfo[] {
    const infos = new Map<string, InstanceInfo>();
    for (const info of this.#supervisor.infos()) infos.set(info.id, info);
    for (const state of this.#states()) {
      if (!infos.has(state.spec.id) && !this.#stops.has(state.spec.id)) infos.set(state.spec.id, unsupervisedInfo(state));
    }
    for (const orphan of this.#orphans()) if (!infos.has(orphan.id)) infos.set(orphan.id, orphan);
    return [...infos.values()];
  }

  #sourceFor(id: string): LogSource | null {
    const registered = this.#collector.source(id);
    if (registered) return registered;
    const state = isSafeName(id) ? readState(this.#layout, id) : null;
    return state ? { id, files: logFiles(this.#layout, state.spec), secrets: state.spec.secrets } : null;
  }
}

/**
 * Makes the root ready for app users: they pass through it, builds/ and homes/ to what is theirs, and see
 * nothing of instances/ (sealed specs) or logs/ (every app's output). Throws CONFIG_INVALID, naming the
 * directory and the fix, when something on the way to their builds, berth's Node or the static server is
 * closed to them: every deploy would fail otherwise, each with a less clear error.
 */
function openRootToAppUsers(layout: Layout, binPath: string[]): void {
  for (const [dir, mode] of [[layout.root, 0o711], [layout.builds, 0o711], [layout.homes, 0o711], [layout.instances, 0o700], [layout.logs, 0o700]] as const) {
    mkdirSync(dir, { recursive: true, mode });
    chmodSync(dir, mode);
  }
  const issues = reachIssues({ builds: layout.builds, nodeDirs: binPath, staticServer: STATIC_SERVER });
  if (issues.length > 0) throw fail('CONFIG_INVALID', { issues });
}

function subdirectories(dir: string): string[] {
  try {
    return readdirSync(dir, { withFileTypes: true }).filter((entry) => entry.isDirectory()).map((entry) => entry.name);
  } catch {
    return [];
  }
}
