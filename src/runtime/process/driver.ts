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
import type { InstanceInfo, RuntimeDriver } from '../driver.ts';
import { driverListeners, missingInstance } from '../listeners.ts';
import { isSafeName } from '../log-tree.ts';
import { logStream } from '../log-stream.ts';
import { AppUsers, type AppUser } from './app-users.ts';
import { buildArtifact, cleanInterruptedBuilds } from './build.ts';
import { daemonUid, isolatesApps } from './isolation.ts';
import { buildDir, findLogFiles, layoutFor, logFiles, PARTIAL_SUFFIX, type Layout, type SecretBox } from './layout.ts';
import { claimTree, removeTree } from './owned-tree.ts';
import { reachIssues } from './reachable.ts';
import { checkInstanceHealth, runOneOff } from './one-off.ts';
import { createLogCollector, type LogCollectorOptions, type LogSource } from './log-collector.ts';
import { readStore } from '../log-store.ts';
import { findOwnedProcesses } from './owned.ts';
import { listStates, readState } from './state-file.ts';
import { createSupervisor } from './supervisor.ts';
import { orphanInfos, unsupervisedInfo } from './instance-info.ts';

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
  if (!OWNER.test(options.ownerId)) {
    throw fail('CONFIG_INVALID', { issues: [{ path: 'runtime.ownerId', message: 'use 1-128 letters, digits, and _ . : -' }] });
  }
  const clock = options.clock ?? systemClock;
  const log = options.log.child({ component: 'runtime', driver: 'process' });
  const layout = layoutFor(resolve(options.root), options.box);
  const ownerId = options.ownerId;
  const orphanStopTimeoutMs = options.orphanStopTimeoutMs ?? 10_000;
  const binPath = options.binPath ?? [];
  const users = (options.appUsers ?? isolatesApps(daemonUid())) ? new AppUsers({ ownerId, homes: layout.homes, log }) : null;
  if (users) openRootToAppUsers(layout, binPath);
  /** The app's user, with `artifact` (when given) handed to it if root made it before berth ran apps as users. */
  const userFor = async (app: string, artifact?: string): Promise<AppUser | null> => {
    if (!users) return null;
    const user = await users.ensure(app);
    if (artifact) {
      try {
        claimTree(artifact, user);
      } catch (error) {
        throw fail('START_FAILED', { reason: `artifact ${artifact} cannot be used by ${user.name}: ${(error as Error).message}` }).because(error);
      }
    }
    return user;
  };
  const listeners = driverListeners(log);
  const activeBuilds = new Set<string>();
  const stops = new Map<string, Promise<void>>();
  const collector = createLogCollector({ clock, log, ...options.logs });
  const supervisor = createSupervisor({
    layout,
    ownerId,
    binPath,
    userFor: (spec) => userFor(spec.app, spec.artifact),
    clock,
    log,
    collector,
    pollMs: options.pollMs ?? 500,
    emit: (events) => listeners.emit(...events),
  });
  collector.start();

  const hasState = (id: string) => isSafeName(id) && readState(layout, id) !== null;
  const orphans = () =>
    orphanInfos(findOwnedProcesses(ownerId), (id) => supervisor.info(id) !== undefined || stops.has(id) || hasState(id));

  const list = (): InstanceInfo[] => {
    const infos = new Map<string, InstanceInfo>();
    for (const info of supervisor.infos()) infos.set(info.id, info);
    for (const state of listStates(layout, (file, error) => log.warn('unreadable instance state', { file, error: error as Error }))) {
      if (!infos.has(state.spec.id) && !stops.has(state.spec.id)) infos.set(state.spec.id, unsupervisedInfo(state));
    }
    for (const orphan of orphans()) if (!infos.has(orphan.id)) infos.set(orphan.id, orphan);
    return [...infos.values()];
  };

  const sourceFor = (id: string): LogSource | null => {
    const registered = collector.source(id);
    if (registered) return registered;
    const state = isSafeName(id) ? readState(layout, id) : null;
    return state ? { id, files: logFiles(layout, state.spec), secrets: state.spec.secrets } : null;
  };

  return {
    name: 'process',

    async build(request) {
      if (activeBuilds.has(request.buildId)) throw fail('BUILD_FAILED', { reason: `build ${request.buildId} is already running` });
      activeBuilds.add(request.buildId);
      try {
        return await buildArtifact({ layout, ownerId, binPath, log, now: () => clock.now(), userFor: (app) => userFor(app) }, request);
      } finally {
        activeBuilds.delete(request.buildId);
      }
    },

    async removeArtifact(artifact) {
      const path = resolve(artifact);
      if (dirname(path) !== resolve(layout.builds) || path.endsWith(PARTIAL_SUFFIX)) {
        throw fail('INTERNAL', { reason: `${artifact} is not an artifact of the process driver` });
      }
      await removeTree(path);
    },

    async start(requested) {
      // A state file nobody supervises yet (adopt() not called) still means the instance exists.
      if (isSafeName(requested.id) && readState(layout, requested.id)) throw fail('START_FAILED', { reason: `instance ${requested.id} already exists` });
      const spec = requested.staticRoot ? { ...requested, command: `node ${shellQuote(STATIC_SERVER)} ${shellQuote(requested.staticRoot)}` } : requested;
      if (!spec.command.trim()) throw fail('START_FAILED', { reason: 'no command to run: host processes have no image with a default command; set `processes.<name>.command` in berth.yaml' });
      return supervisor.start(spec);
    },

    stop(id) {
      const pending = stops.get(id);
      if (pending) return pending;
      const stopping = (async () => {
        if (!isSafeName(id)) return;
        await supervisor.stop(id, readState(layout, id), orphanStopTimeoutMs);
      })().finally(() => stops.delete(id));
      stops.set(id, stopping);
      return stopping;
    },

    async inspect(id) {
      const known = supervisor.info(id);
      if (known) return known;
      const state = isSafeName(id) && !stops.has(id) ? readState(layout, id) : null;
      if (state) return unsupervisedInfo(state);
      const orphan = orphans().find((o) => o.id === id);
      return orphan ?? missingInstance(id);
    },

    list: async () => list(),

    async adopt() {
      await cleanInterruptedBuilds({ layout, ownerId, activeBuilds, clock, log });
      for (const state of listStates(layout, (file, error) => log.warn('unreadable instance state', { file, error: error as Error }))) {
        if (!stops.has(state.spec.id)) supervisor.adopt(state);
      }
      const found = list();
      log.info('adopted instances', { count: found.length, orphans: found.filter((i) => i.detail?.orphan).length });
      return found;
    },

    logs(id, query) {
      return logStream({
        read: () => {
          const source = sourceFor(id);
          if (source) {
            try {
              collector.collect(source);
            } catch (error) {
              log.warn('log collection failed', { instance: id, error: error as Error });
            }
          }
          const files = source?.files ?? findLogFiles(layout, id);
          return files ? readStore(files.store, id) : [];
        },
        subscribe: (push) => collector.onLines(id, push),
        query,
      });
    },

    async removeLogs(app, release) {
      if (!isSafeName(app) || !isSafeName(release)) return;
      rmSync(join(layout.logs, app, release), { recursive: true, force: true });
    },

    async removeApp(app) {
      if (!isSafeName(app)) return;
      rmSync(join(layout.logs, app), { recursive: true, force: true });
      await users?.remove(app);
    },

    async holdings() {
      const apps = new Set(list().map((i) => i.app));
      for (const name of subdirectories(layout.logs)) apps.add(name);
      for (const name of users?.apps() ?? []) apps.add(name);
      // A finished build is builds/<id>; <id>.partial is one a crash interrupted (adopt() removes those).
      const artifacts = subdirectories(layout.builds).filter((name) => !name.endsWith(PARTIAL_SUFFIX)).map((name) => buildDir(layout, name));
      return { apps: [...apps], artifacts };
    },

    runOnce: async (spec) => runOneOff({ spec, ownerId, binPath, user: await userFor(spec.app, spec.artifact) }),

    restart: async (id) => (isSafeName(id) ? supervisor.restart(id) : undefined),

    async checkHealth(id, check) {
      const state = isSafeName(id) ? readState(layout, id) : null;
      if (!state || state.state !== 'running') return { ok: false, detail: `instance ${id} is not running` };
      return checkInstanceHealth({ spec: state.spec, port: state.port, ownerId, binPath, user: await userFor(state.spec.app) }, check, clock.now());
    },

    subscribe: listeners.subscribe,

    async close() {
      await supervisor.close();
      await Promise.allSettled(stops.values());
      collector.stop();
      listeners.clear();
    },
  };
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
